"""CloudFlow's built-in functions (cloudflow-language.md §2.7), as a plain registry dict.

Each function takes already-evaluated JSON values and returns a new JSON value; it never mutates
its arguments. A wrong argument type raises ``EvaluationError``, which the expression evaluator
turns into ``FlowError(FnF.RuntimeError, …)`` naming the expression. Arity is checked when the
expression is compiled (``Builtin.min_args``/``max_args``), so a call with the wrong number of
arguments is a syntax error, never a runtime one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import random
import uuid as _uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

from ..jsonvalues import loads_strict, utf8
from .bounds import string_too_long


class EvaluationError(Exception):
    """An expression could not be evaluated; the evaluator wraps it into a ``FlowError``."""


@dataclass(frozen=True)
class Builtin:
    """One built-in function: its name, arity bounds (``None`` = unbounded) and implementation.

    ``deterministic`` is False for ``randomInt``/``uuid`` so constant folding never freezes them.
    """

    name: str
    min_args: int
    max_args: int | None
    function: Callable[..., Any]
    deterministic: bool = True


# --------------------------------------------------------------------------- value helpers


def type_name(value: Any) -> str:
    """The JSON type name of ``value`` (used in error details; values never appear in them)."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "map"
    return type(value).__name__


def is_number(value: Any) -> bool:
    """True for JSON numbers; booleans are not numbers ("true never equals 1")."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def json_equal(left: Any, right: Any) -> bool:
    """Typed JSON equality: a string never equals a number, ``true`` never equals ``"true"`` or
    ``1``; numbers compare by value (``1 == 1.0``); arrays and maps compare element-wise."""
    kind = type(left)
    if kind is type(right) and (kind is str or kind is int or kind is float):
        return left == right  # the common case, decided without the checks below
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left is right
    if is_number(left):
        return is_number(right) and left == right
    if isinstance(left, str):
        return isinstance(right, str) and left == right
    if isinstance(left, list):
        return (
            isinstance(right, list)
            and len(left) == len(right)
            and all(json_equal(a, b) for a, b in zip(left, right))
        )
    if isinstance(left, dict):
        return (
            isinstance(right, dict)
            and left.keys() == right.keys()
            and all(json_equal(v, right[k]) for k, v in left.items())
        )
    return False


def to_json_text(value: Any) -> str:
    """Compact JSON text (separators ``,``/``:``, key order kept, non-ASCII kept as is)."""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise EvaluationError(f"value cannot be written as JSON ({type(exc).__name__})") from None


def _expect(function: str, position: int, value: Any, *types: str) -> None:
    if type_name(value) not in types:
        wanted = " or ".join(types)
        raise EvaluationError(
            f"{function}() argument {position} must be {wanted}, got {type_name(value)}"
        )


def _as_int(function: str, position: int, value: Any) -> int:
    """An integer argument; an integral float (``2.0``) is accepted, booleans are not."""
    if type(value) is int:
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    raise EvaluationError(
        f"{function}() argument {position} must be an integer, got {type_name(value)}"
    )


# --------------------------------------------------------------------------- the functions


def fn_format(template: Any, *args: Any) -> str:
    """``format("hello {}","world")`` → ``"hello world"``: each ``{}`` takes the next argument.

    Strings are inserted as is, other values as compact JSON. A ``{}`` with no argument left is an
    error; surplus arguments are ignored [INFERRED]."""
    _expect("format", 1, template, "string")
    pieces = template.split("{}")
    if len(pieces) - 1 > len(args):
        raise EvaluationError(
            f"format() has {len(pieces) - 1} placeholders but only {len(args)} arguments"
        )
    rendered = [arg if isinstance(arg, str) else to_json_text(arg) for arg in args[: len(pieces) - 1]]
    problem = string_too_long("format()", sum(map(len, pieces)) + sum(map(len, rendered)))
    if problem:
        raise EvaluationError(problem)
    out = [pieces[0]]
    for text, piece in zip(rendered, pieces[1:]):
        out.append(text)
        out.append(piece)
    return "".join(out)


def fn_length(value: Any) -> int:
    """``length([1,2,3])``→3, ``length({"name":"Tom","age":10})``→2, ``length("name")``→4."""
    _expect("length", 1, value, "array", "map", "string")
    return len(value)


def _re2_options() -> Any:
    import re2

    options = re2.Options()
    options.log_errors = False  # a bad pattern is reported through EvaluationError, not on stderr
    options.never_capture = True  # only "does it match" is asked
    return options


@lru_cache(maxsize=256)
def _compiled_regex(pattern: str) -> Any:
    """The pattern compiled once by RE2 (the engine Go's ``regexp`` follows: same syntax, linear
    time, no backreferences), cached per pattern."""
    import re2

    global _RE2_OPTIONS
    if _RE2_OPTIONS is None:
        _RE2_OPTIONS = _re2_options()
    return re2.compile(_go_text(pattern), _RE2_OPTIONS)


_RE2_OPTIONS: Any = None


def _go_text(text: str) -> str:
    """A Go string never holds a lone surrogate (its JSON decoder reads one as U+FFFD)."""
    return text if text.isascii() else utf8(text).decode("utf-8")


def fn_regex_match_string(text: Any, pattern: Any) -> bool:
    """``regexMatchString(string, regex)``: true when the regex matches anywhere in the string
    (unanchored, like Go's ``regexp.MatchString``; RE2 syntax and linear-time matching, so
    ``(a+)+$`` cannot backtrack) [INFERRED argument order]."""
    _expect("regexMatchString", 1, text, "string")
    _expect("regexMatchString", 2, pattern, "string")
    import re2

    try:
        compiled = _compiled_regex(pattern)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise EvaluationError(f"regexMatchString() argument 2 is not a valid regex: {reason}") from None
    return compiled.search(_go_text(text)) is not None


def fn_split(text: Any, delimiter: Any) -> list[str]:
    """``split(string, delimiter)`` → list of strings; an empty delimiter splits into characters
    (Go's ``strings.Split``) [INFERRED]."""
    _expect("split", 1, text, "string")
    _expect("split", 2, delimiter, "string")
    if delimiter == "":
        return list(text)
    return text.split(delimiter)


def fn_get(container: Any, key: Any) -> Any:
    """``get(array, index)`` or ``get(map, key)``; a missing key or out-of-range index is null
    (the same rule as a path step)."""
    if isinstance(container, list):
        index = _as_int("get", 2, key)
        return container[index] if 0 <= index < len(container) else None
    if isinstance(container, dict):
        _expect("get", 2, key, "string")
        return container.get(key)
    raise EvaluationError(f"get() argument 1 must be array or map, got {type_name(container)}")


def fn_int_add(left: Any, right: Any) -> int:
    """``intAdd(int, int)`` → int."""
    return _as_int("intAdd", 1, left) + _as_int("intAdd", 2, right)


def fn_random_int(low: Any, high: Any) -> int:
    """``randomInt(min, max)``: a random integer with ``min <= n < max`` [INFERRED: half-open,
    like Go's ``rand.Intn``]; ``min >= max`` is an error."""
    low_i, high_i = _as_int("randomInt", 1, low), _as_int("randomInt", 2, high)
    if low_i >= high_i:
        raise EvaluationError("randomInt() needs min < max")
    return random.randrange(low_i, high_i)


def fn_array_contains(array: Any, element: Any) -> bool:
    """``arrayContains(["Tom",10],10)`` → true (typed equality)."""
    _expect("arrayContains", 1, array, "array")
    return any(json_equal(item, element) for item in array)


def _hash_key(value: Any) -> Any:
    """A hashable key equal for json_equal-equal scalars, or None for containers."""
    if value is None:
        return ("null",)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float)):
        return ("number", value)
    if isinstance(value, str):
        return ("string", value)
    return None


def fn_array_unique(array: Any) -> list[Any]:
    """``arrayUnique([1,2,3,1])`` → ``[1,2,3]``: first occurrences, in order."""
    _expect("arrayUnique", 1, array, "array")
    seen: set[Any] = set()
    kept_containers: list[Any] = []
    out: list[Any] = []
    for item in array:
        key = _hash_key(item)
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        else:
            if any(json_equal(item, other) for other in kept_containers):
                continue
            kept_containers.append(item)
        out.append(item)
    return out


def fn_to_array(*values: Any) -> list[Any]:
    """``toArray(...any)`` → its arguments as one array."""
    return list(values)


def fn_map_keys(mapping: Any) -> list[str]:
    """``mapKeys(map)`` → its keys, in the map's order."""
    _expect("mapKeys", 1, mapping, "map")
    return list(mapping)


def fn_map_values(mapping: Any) -> list[Any]:
    """``mapValues(map)`` → its values, in the map's order."""
    _expect("mapValues", 1, mapping, "map")
    return list(mapping.values())


def fn_json_merge(first: Any, second: Any) -> dict[str, Any]:
    """``jsonMerge(map, map)``: shallow merge, the second map wins on shared keys."""
    _expect("jsonMerge", 1, first, "map")
    _expect("jsonMerge", 2, second, "map")
    return {**first, **second}


def fn_string_to_json(text: Any) -> Any:
    """``stringToJson('{"name": "Tom", "age": 10}')`` → ``{"name":"Tom","age":10}``; any JSON
    value is accepted; NaN/Infinity are not JSON and are rejected."""
    _expect("stringToJson", 1, text, "string")
    try:
        return loads_strict(text)  # NaN/Infinity, 1e400 and huge integers are refused
    except (ValueError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc) or type(exc).__name__
        raise EvaluationError(f"stringToJson() argument is not valid JSON: {reason}") from None


def fn_json_to_string(value: Any) -> str:
    """``jsonToString(value)`` → compact JSON text."""
    return to_json_text(value)


def fn_to_base64(text: Any) -> str:
    """``toBase64(string)`` → standard Base64 of its UTF-8 bytes."""
    _expect("toBase64", 1, text, "string")
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def fn_from_base64(text: Any) -> str:
    """``fromBase64("Rm5G")`` → ``"FnF"``; the decoded bytes must be UTF-8."""
    _expect("fromBase64", 1, text, "string")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise EvaluationError("fromBase64() argument is not Base64 of UTF-8 text") from None


_HASH_ALGORITHMS = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-512": "sha512"}


def fn_hash(text: Any, algorithm: Any) -> str:
    """``hash("abc","MD5")`` → ``"900150983cd24fb0d6963f7d28e17f72"`` (lower-case hex of the UTF-8
    bytes). Algorithms: MD5, SHA-1, SHA-256, SHA-512 (case-insensitive)."""
    _expect("hash", 1, text, "string")
    _expect("hash", 2, algorithm, "string")
    name = _HASH_ALGORITHMS.get(algorithm.upper())
    if name is None:
        raise EvaluationError(f"hash() algorithm must be one of {', '.join(_HASH_ALGORITHMS)}")
    return hashlib.new(name, text.encode("utf-8")).hexdigest()


def fn_uuid() -> str:
    """``uuid()`` → a random (version 4) UUID in canonical lower-case form."""
    return str(_uuid.uuid4())


# --------------------------------------------------------------------------- the registry


def _table(*entries: Builtin) -> dict[str, Builtin]:
    return {entry.name: entry for entry in entries}


BUILTINS: dict[str, Builtin] = _table(
    Builtin("format", 1, None, fn_format),
    Builtin("length", 1, 1, fn_length),
    Builtin("regexMatchString", 2, 2, fn_regex_match_string),
    Builtin("split", 2, 2, fn_split),
    Builtin("get", 2, 2, fn_get),
    Builtin("intAdd", 2, 2, fn_int_add),
    Builtin("randomInt", 2, 2, fn_random_int, deterministic=False),
    Builtin("arrayContains", 2, 2, fn_array_contains),
    Builtin("arrayUnique", 1, 1, fn_array_unique),
    Builtin("toArray", 0, None, fn_to_array),
    Builtin("mapKeys", 1, 1, fn_map_keys),
    Builtin("mapValues", 1, 1, fn_map_values),
    Builtin("jsonMerge", 2, 2, fn_json_merge),
    Builtin("stringToJson", 1, 1, fn_string_to_json),
    Builtin("fromJSON", 1, 1, fn_string_to_json),
    Builtin("jsonToString", 1, 1, fn_json_to_string),
    Builtin("toJSON", 1, 1, fn_json_to_string),
    Builtin("toBase64", 1, 1, fn_to_base64),
    Builtin("fromBase64", 1, 1, fn_from_base64),
    Builtin("hash", 2, 2, fn_hash),
    Builtin("uuid", 0, 0, fn_uuid, deterministic=False),
)
"""Every built-in by its exact (case-sensitive) name; aliases share an implementation."""
