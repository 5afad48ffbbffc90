"""The ASL intrinsic functions (``States.*``), as a registry of plain Python callables.

Each function receives already-evaluated JSON values and returns a new value.  A wrong argument
type or value raises ``FlowError("States.IntrinsicFailure", …)`` ("Failures raise
``States.IntrinsicFailure``", asl-distributed-map.md §6).  Arity and the types of *literal*
arguments are checked when the call is compiled (``intrinsics``), so those are syntax errors.
Recorded quirks reproduced here: Format renders objects Java-``Map.toString``-style
(``{Arg1=1, Arg2=[]}``); StringToJson of a blank string is ``null``; ArrayRange includes a
reachable end; MathAdd rounds each operand half-up (Java ``Math.round``) before adding;
StringSplit splits on *any* delimiter character and drops empty strings.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import random
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from airflow_cloudflow.exceptions import FlowError
from airflow_cloudflow.jsonvalues import loads_strict
from airflow_cloudflow.expressions.bounds import string_too_long
from airflow_cloudflow.expressions.builtins import json_equal  # JSON equality: true is not 1; 1 equals 1.0; deep

INTRINSIC_FAILURE = "States.IntrinsicFailure"
MAX_ARRAY_RANGE = 1000
MAX_BASE64_CHARS = 10_000
HASH_ALGORITHMS = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}


@dataclass(frozen=True)
class IntrinsicFunction:
    """One ``States.X``: its parameter kinds (``rest`` repeats for extra arguments), the minimum
    argument count, and whether it may be folded at load time."""

    name: str
    params: tuple[str, ...]
    min_args: int
    function: Callable[..., Any]
    rest: str | None = None
    deterministic: bool = True

    @property
    def max_args(self) -> int | None:
        return None if self.rest else len(self.params)

    def kind_of(self, index: int) -> str:
        return self.params[index] if index < len(self.params) else (self.rest or "any")

    def __call__(self, *args: Any) -> Any:
        for i, arg in enumerate(args):
            problem = kind_problem(self.kind_of(i), arg)
            if problem:
                fail(f"Invalid argument {i + 1} of {self.name}: {problem}")
        try:
            return self.function(*args)
        except (ArithmeticError, ValueError, RecursionError) as exc:  # a number beyond a double, an int too long
            fail(f"{self.name} could not compute its result: {type(exc).__name__}: {exc}")


def fail(detail: str) -> None:
    raise FlowError(INTRINSIC_FAILURE, detail)


def json_type(value: Any) -> str:
    """The JSON type name AWS prints in messages (``Expected 'array', but was '<type>'``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def kind_problem(kind: str, value: Any) -> str | None:
    """Why ``value`` is not of ``kind`` (``None`` when it is)."""
    actual = json_type(value)
    if kind == "any" or kind == actual:
        return None
    if kind == "integer" and _is_integer(value):
        return None
    return f"expected {'an' if kind[0] in 'aeiou' else 'a'} {kind}, got {actual}"


# --------------------------------------------------------------------------- formatting


def format_value(value: Any) -> str:
    """How ``States.Format`` renders an argument: strings raw, objects ``{k=v, …}``, arrays
    ``[a, b]``, everything else as JSON (``null``, ``true``, ``1.1``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={format_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def render_format(pieces: tuple[str, ...], args: tuple[Any, ...]) -> str:
    """Join the literal ``pieces`` (split at the ``{}`` placeholders) with the rendered args."""
    if len(pieces) - 1 != len(args):
        fail(
            f"States.Format expected {len(pieces) - 1} argument(s) for its placeholders, "
            f"got {len(args)}"
        )
    rendered = [format_value(arg) for arg in args]
    problem = string_too_long("States.Format", sum(map(len, pieces)) + sum(map(len, rendered)))
    if problem:
        fail(problem)
    out = [pieces[0]]
    for text, piece in zip(rendered, pieces[1:]):
        out.append(text)
        out.append(piece)
    return "".join(out)


def _format(template: str, *args: Any) -> str:
    return render_format(tuple(template.split("{}")), args)


# --------------------------------------------------------------------------- functions


def _string_to_json(text: str) -> Any:
    if not text.strip():
        return None
    try:
        return loads_strict(text)  # NaN/Infinity, 1e400 and huge integers are not JSON we carry
    except (ValueError, RecursionError):
        fail(f"States.StringToJson could not parse its argument as JSON: {text[:100]!r}")


def _array_partition(items: list, size: Any) -> list:
    size = int(size)
    if size <= 0:
        fail(f"States.ArrayPartition chunk size must be positive, got {size}")
    return [items[i : i + size] for i in range(0, len(items), size)]


def _array_contains(items: list, value: Any) -> bool:
    return any(json_equal(item, value) for item in items)


def _array_range(start: Any, end: Any, step: Any) -> list[int]:
    start, end, step = int(start), int(end), int(step)
    if step == 0:
        fail("States.ArrayRange step cannot be 0")
    count = max(0, (end - start) // step + 1)
    if count > MAX_ARRAY_RANGE:
        fail(f"States.ArrayRange would create {count} elements; the limit is {MAX_ARRAY_RANGE}")
    return [start + i * step for i in range(count)]


def _array_get_item(items: list, index: Any) -> Any:
    index = int(index)
    if not 0 <= index < len(items):
        fail(f"States.ArrayGetItem index {index} is out of bounds for an array of length {len(items)}")
    return items[index]


def _array_unique(items: list) -> list:
    out: list = []
    for item in items:
        if not any(json_equal(item, seen) for seen in out):
            out.append(item)
    return out


def _check_length(name: str, text: str) -> None:
    if len(text) > MAX_BASE64_CHARS:
        fail(f"{name} input exceeds {MAX_BASE64_CHARS} characters")


def _base64_encode(text: str) -> str:
    _check_length("States.Base64Encode", text)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _base64_decode(text: str) -> str:
    _check_length("States.Base64Decode", text)
    try:
        return base64.b64decode(text.encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        fail("States.Base64Decode input is not valid base64-encoded UTF-8")
    raise AssertionError("unreachable")  # pragma: no cover


def _hash(data: str, algorithm: str) -> str:
    if algorithm not in HASH_ALGORITHMS:
        fail(f"States.Hash algorithm must be one of {', '.join(HASH_ALGORITHMS)}, got {algorithm!r}")
    return hashlib.new(HASH_ALGORITHMS[algorithm], data.encode("utf-8")).hexdigest()


def _json_merge(left: dict, right: dict, deep: bool) -> dict:
    if deep:
        fail("States.JsonMerge supports only shallow merging; the third argument must be false")
    return {**left, **right}


def java_round(value: float) -> int:
    """Java ``Math.round``: half-up, i.e. ``floor(x + 0.5)`` (−1.5 → −1, 2.5 → 3)."""
    return int(math.floor(value + 0.5))


def _math_add(a: float, b: float) -> int:
    if not all(math.isfinite(v) for v in (a, b)):
        fail("States.MathAdd arguments must be finite numbers")
    return java_round(a) + java_round(b)


class JavaRandom:
    """``java.util.Random`` (48-bit LCG), used for seeded ``States.MathRandom``."""

    _MULT, _MASK = 0x5DEECE66D, (1 << 48) - 1

    def __init__(self, seed: int):
        self.seed = (seed ^ self._MULT) & self._MASK

    def _next(self, bits: int) -> int:
        self.seed = (self.seed * self._MULT + 0xB) & self._MASK
        value = self.seed >> (48 - bits)
        return value - (1 << 32) if value >= 1 << 31 else value

    def next_int(self, bound: int) -> int:
        r = self._next(31)
        m = bound - 1
        if bound & m == 0:
            return (bound * r) >> 31
        u = r
        r = u % bound
        while u - r + m >= 1 << 31:
            u = self._next(31)
            r = u % bound
        return r


    def next_double(self) -> float:
        """``Random.nextDouble()``: 53 random bits in [0, 1)."""
        return ((self._next(26) << 27) + self._next(27)) * (1.0 / (1 << 53))


def random_unit(generator: JavaRandom | None = None) -> float:
    """A number in [0, 1): from ``generator`` (seeded: repeatable), else from the system."""
    return random.random() if generator is None else generator.next_double()


def _math_random(start: Any, end: Any, seed: Any = None) -> int:
    start, end = int(start), int(end)
    if end <= start:
        fail(f"States.MathRandom end ({end}) must be greater than start ({start})")
    if seed is None:
        return random.randrange(start, end)
    return start + JavaRandom(int(seed)).next_int(end - start)


def _string_split(text: str, delimiters: str) -> list[str]:
    parts = [text]
    for delimiter in dict.fromkeys(delimiters):
        parts = [piece for part in parts for piece in part.split(delimiter)]
    return [p for p in parts if p]


def _fn(name: str, params: tuple[str, ...], function: Callable[..., Any], **kw: Any):
    min_args = kw.pop("min_args", len(params))
    return IntrinsicFunction(f"States.{name}", params, min_args, function, **kw)


FUNCTIONS: dict[str, IntrinsicFunction] = {
    f.name: f
    for f in (
        _fn("Format", ("string",), _format, rest="any"),
        _fn("StringToJson", ("string",), _string_to_json),
        _fn("JsonToString", ("any",), lambda v: json.dumps(v, separators=(",", ":"), ensure_ascii=False)),
        _fn("Array", (), lambda *a: list(a), rest="any"),
        _fn("ArrayPartition", ("array", "integer"), _array_partition),
        _fn("ArrayContains", ("array", "any"), _array_contains),
        _fn("ArrayRange", ("integer", "integer", "integer"), _array_range),
        _fn("ArrayGetItem", ("array", "integer"), _array_get_item),
        _fn("ArrayLength", ("array",), len),
        _fn("ArrayUnique", ("array",), _array_unique),
        _fn("Base64Encode", ("string",), _base64_encode),
        _fn("Base64Decode", ("string",), _base64_decode),
        _fn("Hash", ("string", "string"), _hash),
        _fn("JsonMerge", ("object", "object", "boolean"), _json_merge),
        _fn("MathRandom", ("integer", "integer", "integer"), _math_random, min_args=2,
            deterministic=False),
        _fn("MathAdd", ("number", "number"), _math_add),
        _fn("StringSplit", ("string", "string"), _string_split),
        _fn("UUID", (), lambda: str(uuid.uuid4()), deterministic=False),
    )
}
