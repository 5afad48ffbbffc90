"""JSON text rules shared by the expression languages, the readers, the writers and batching.

Go's ``encoding/json`` (the engine CloudFlow and Step Functions behave like) rejects ``NaN`` and
``Infinity``, which Python's ``json`` module accepts by default: decode with
``parse_constant=reject_constant``. Go reads a lone UTF-16 surrogate escape (``"\\ud800"``) as
U+FFFD; Python keeps the surrogate in the ``str``, which cannot be encoded as UTF-8: ``utf8`` writes
it as U+FFFD, as Go would.

``loads_strict`` is the one decoder for JSON that comes from users (``--input``, ``*.asl.json``,
item data): besides the constants it refuses what Python cannot carry through a run — an integer
over ``MAX_INT_DIGITS`` digits (Python's int/str conversion limit, which would fail later, at the
first ``json.dumps``), a number that overflows a double (``1e400`` would become ``Infinity``; an
integer of 309+ digits, which Go cannot read as a double either), and
nesting deeper than ``MAX_DEPTH`` (recursion limits) — each a ``RejectedJson`` saying which.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


MAX_INT_DIGITS = 4300
"""Digits of an integer literal at most (``sys.get_int_max_str_digits()``'s default)."""

MAX_DEPTH = 200
"""Nesting of arrays and objects at most in a JSON value from a user (the YAML loader's bound too)."""


class RejectedJson(ValueError):
    """Well-formed JSON text that this package refuses (the subclasses say why)."""


class NonJsonConstant(RejectedJson):
    """``NaN``, ``Infinity`` or ``-Infinity`` in a JSON text."""


class NumberOutOfRange(RejectedJson):
    """An integer literal over ``MAX_INT_DIGITS`` digits, or a number beyond a double's range."""


class NestedTooDeeply(RejectedJson):
    """Arrays/objects nested deeper than ``MAX_DEPTH``."""


def reject_constant(name: str) -> Any:
    """``json.loads(..., parse_constant=reject_constant)``: refuse the non-JSON constants."""
    raise NonJsonConstant(f"{name} is not valid JSON")


def strict_int(text: str) -> int:
    """``parse_int``: refuse integer literals Python cannot convert back to text, and — as Go's reader,
    which reads every JSON number as a double, does — integers beyond a double's range (309+ digits)."""
    if len(text) - text.startswith("-") > MAX_INT_DIGITS:
        raise NumberOutOfRange(f"an integer literal of {len(text)} digits is longer than {MAX_INT_DIGITS} digits")
    if len(text) > 300 and not math.isfinite(float(text)):
        raise NumberOutOfRange(f"the integer {text[:20]}… ({len(text)} digits) is beyond the range of a double")
    return int(text)


def strict_float(text: str) -> float:
    """``parse_float``: refuse numbers beyond a double's range (``1e400``), which JSON cannot write back."""
    value = float(text)
    if not math.isfinite(value):
        raise NumberOutOfRange(f"the number {text[:40]} is beyond the range of a double")
    return value


STRICT_DECODER = json.JSONDecoder(parse_constant=reject_constant, parse_int=strict_int, parse_float=strict_float)


def check_depth(value: Any, limit: int = MAX_DEPTH) -> Any:
    """``value`` itself; ``NestedTooDeeply`` when its arrays/objects nest deeper than ``limit``."""
    level: list[Any] = [value]
    depth = 0
    while level:
        nested = [v for v in level if isinstance(v, (dict, list))]
        if not nested:
            return value
        depth += 1
        if depth > limit:
            raise NestedTooDeeply(f"arrays/objects nested deeper than {limit} levels")
        level = [c for v in nested for c in (v.values() if isinstance(v, dict) else v)]
    return value


def loads_strict(text: str) -> Any:
    """Decode one JSON text from a user by the rules above; ``json.JSONDecodeError`` (with its
    position) for malformed text, ``RejectedJson`` for well-formed text we refuse."""
    try:
        value = STRICT_DECODER.decode(text)
    except RecursionError:
        raise NestedTooDeeply(f"arrays/objects nested deeper than {MAX_DEPTH} levels") from None
    return check_depth(value)


def dumps_strict(value: Any, **options: Any) -> str:
    """``json.dumps`` that never writes ``NaN``/``Infinity``: ``RejectedJson`` instead (also for an
    integer too long to write or nesting past the recursion limit)."""
    try:
        return json.dumps(value, allow_nan=False, **options)
    except RecursionError:
        raise NestedTooDeeply("the value is nested too deeply to write as JSON") from None
    except ValueError as exc:
        raise RejectedJson(f"the value cannot be written as standard JSON: {exc}") from None


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
