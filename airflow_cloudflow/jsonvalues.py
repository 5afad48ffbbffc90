"""JSON text rules shared by the expression languages, the readers, the writers and batching.

Go's ``encoding/json`` (the engine CloudFlow and Step Functions behave like) rejects ``NaN`` and
``Infinity``, which Python's ``json`` module accepts by default: decode with
``parse_constant=reject_constant``. Go reads a lone UTF-16 surrogate escape (``"\\ud800"``) as
U+FFFD; Python keeps the surrogate in the ``str``, which cannot be encoded as UTF-8: ``utf8`` writes
it as U+FFFD, as Go would.
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


class NonJsonConstant(ValueError):
    """``NaN``, ``Infinity`` or ``-Infinity`` in a JSON text."""


def reject_constant(name: str) -> Any:
    """``json.loads(..., parse_constant=reject_constant)``: refuse the non-JSON constants."""
    raise NonJsonConstant(f"{name} is not valid JSON")


def utf8(text: str) -> bytes:
    """UTF-8 bytes of ``text``; a lone surrogate becomes U+FFFD (``EF BF BD``), like Go."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text).encode("utf-8")


def utf8_length(text: str) -> int:
    """``len(utf8(text))`` without building the bytes for ASCII text (a surrogate and U+FFFD both
    take 3 bytes)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
