"""The JSONata functions Step Functions adds, and the names a JSONata expression may call.

"Step Functions provides the following JSONata functions" (AWS, "Transforming data with JSONata"):
``$partition(array, chunkSize)`` (as ``States.ArrayPartition``), ``$range(start, end, step)`` (as
``States.ArrayRange``: the end is included when reached, at most 1,000 elements), ``$hash(data,
algorithm)`` (as ``States.Hash``: MD5, SHA-1, SHA-256, SHA-384, SHA-512; lowercase hex),
``$random([seed])`` (a number in [0, 1); the same seed gives the same number), ``$uuid()`` (a
version 4 UUID) and ``$parse(jsonString)`` (a JSON string to its value; Step Functions says to use it
instead of ``$eval``, which it does not run). Each reuses the intrinsic's implementation; a bad
argument fails the expression (``States.QueryEvaluationError``), the message naming the function.

``call_problems(ast)``: the lint side. A call of a name that is neither a JSONata built-in, one of
these, nor bound inside the expression (``$f := function…``, a lambda parameter) fails on AWS
("Attempted to invoke a non-function") whatever the data, so lint reports it (ASL-E401), and
``$eval`` is refused as Step Functions refuses it.
"""

from __future__ import annotations

import uuid
from typing import Any, Callable

from airflow_cloudflow.exceptions import FlowError
from airflow_cloudflow.expressions.asl.functions import FUNCTIONS, JavaRandom, random_unit

STEP_FUNCTIONS_FUNCTIONS: dict[str, tuple[str, str]] = {
    # name: (jsonata-python signature, the States.* intrinsic it mirrors or "")
    "partition": ("<an:a>", "States.ArrayPartition"),
    "range": ("<nnn:a>", "States.ArrayRange"),
    "hash": ("<ss:s>", "States.Hash"),
    "random": ("<n?:n>", ""),
    "uuid": ("<:s>", ""),
    "parse": ("<s:x>", "States.StringToJson"),
}
REFUSED = {"eval": "$eval() is not supported by Step Functions; use $parse() to read a JSON string"}
_INTEGER_ARGS = {"partition": (1,), "range": (0, 1, 2), "random": (0,)}


class FunctionFailure(Exception):
    """A Step Functions JSONata function refused its arguments (the message says why)."""


def _integral(name: str, index: int, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer():
        raise FunctionFailure(f"${name}: argument {index + 1} must be an integer, got {value!r}")
    return int(value)


def _random(seed: Any = None) -> float:
    return random_unit(None if seed is None else JavaRandom(seed))


def _implementation(name: str) -> Callable[..., Any]:
    if name == "random":
        return _random
    if name == "uuid":
        return lambda: str(uuid.uuid4())
    return FUNCTIONS[STEP_FUNCTIONS_FUNCTIONS[name][1]].function


def call(name: str, args: list[Any]) -> Any:
    """Run ``$name(*args)`` (arguments already checked against the signature)."""
    while args and args[-1] is None:  # optional arguments not given
        args.pop()
    for index in _INTEGER_ARGS.get(name, ()):
        if index < len(args):
            args[index] = _integral(name, index, args[index])
    try:
        return _json_nulls(_implementation(name)(*args))
    except FlowError as err:
        intrinsic = STEP_FUNCTIONS_FUNCTIONS[name][1]
        detail = (err.detail or "").replace(intrinsic, f"${name}") if intrinsic else err.detail
        raise FunctionFailure(detail or f"${name} failed") from None


def _json_nulls(value: Any) -> Any:
    """JSON ``null`` as jsonata-python's NULL (its ``None`` means undefined), at any depth."""
    from jsonata.utils import Utils

    if value is None:
        return Utils.NULL_VALUE
    if isinstance(value, list):
        return [_json_nulls(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_nulls(v) for k, v in value.items()}
    return value


def register(expression: Any, Jsonata: Any) -> None:
    """Bind the Step Functions functions in one compiled jsonata-python expression."""
    for name, (signature, _) in STEP_FUNCTIONS_FUNCTIONS.items():
        expression.register_function(name, _bound(Jsonata, name, signature))


def _bound(Jsonata: Any, name: str, signature: str) -> Any:
    class _Impl:
        def call(self, input: Any, args: Any) -> Any:
            return call(name, list(args or ()))

    function = Jsonata.JFunction(_Impl(), signature)
    function.function_name = name
    function.signature.function_name = name  # messages name the function
    return function


# ----------------------------------------------------------------------------- lint


def _children(node: Any):
    for key, value in vars(node).items():
        if key in ("parent", "_outer_instance"):
            continue
        if isinstance(value, list):
            yield from (v for v in value if hasattr(v, "type"))
        elif hasattr(value, "type") and value is not node:
            yield value


def call_problems(ast: Any, builtins: set[str]) -> list[str]:
    """Messages for the calls in a parsed expression that can never run (see the module doc)."""
    called: list[str] = []
    bound: set[str] = set()
    todo, seen = [ast], set()
    while todo:
        node = todo.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        kind = getattr(node, "type", None)
        if kind in ("function", "partial") and getattr(node.procedure, "type", None) == "variable":
            called.append(node.procedure.value)
        elif kind == "apply" and getattr(node.rhs, "type", None) == "variable":
            called.append(node.rhs.value)
        elif kind == "bind" and getattr(node.lhs, "type", None) == "variable":
            bound.add(node.lhs.value)
        elif kind == "lambda":
            bound.update(a.value for a in node.arguments or () if getattr(a, "type", None) == "variable")
        todo.extend(_children(node))
    problems = []
    for name in dict.fromkeys(called):
        if name in bound:
            continue
        if name in REFUSED:
            problems.append(REFUSED[name])
        elif name not in builtins and name not in STEP_FUNCTIONS_FUNCTIONS:
            problems.append(f"${name}() is not a JSONata or Step Functions function (nor bound in the expression)")
    return problems


__all__ = ["STEP_FUNCTIONS_FUNCTIONS", "FunctionFailure", "register", "call", "call_problems"]
