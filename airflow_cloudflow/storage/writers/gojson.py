"""JSON texts the way Go's ``json.Marshal`` writes a map: compact, keys sorted, ``<``, ``>``, ``&``,
U+2028 and U+2029 escaped as ``\\u003c`` etc., other non-ASCII characters kept as UTF-8.

The seed prints record ``Input``/``Output`` as ``{"FailedValue":4,"Key":1}`` -- CloudFlow is written in
Go, so we reproduce Go's escaping byte for byte for strings and integers.
"""

from __future__ import annotations

import json
from typing import Any

_GO_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def go_json(value: Any) -> str:
    """Compact, key-sorted JSON text with Go's HTML-safe escaping (the characters only occur in strings)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False)
    return text.translate(_GO_ESCAPES)
