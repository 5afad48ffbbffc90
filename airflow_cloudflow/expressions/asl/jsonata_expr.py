"""ASL JSONata: ``{% expr %}`` strings compiled once (with ``jsonata-python``), evaluated many times.

"The expression context provides ``$states.input``, ``$states.result``, ``$states.errorOutput`` (in
Catch) and ``$states.context`` (the context object, including ``.Map.Item.*``)"; workflow variables
are ``$name``. "Expression failures are ``States.QueryEvaluationError``. One example is a reference
to an undefined variable: "The JSONata expression '$stateError' specified for the field
'Output/error' returned nothing (undefined)."" (asl-distributed-map.md §2.10).

``variables`` (the same dict the JSONPath side uses): ``input``, ``context``, ``variables`` (the
workflow variables in scope), and optionally ``result`` / ``errorOutput``.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Callable

from airflow_cloudflow.diagnostics import escape_pointer_token
from airflow_cloudflow.exceptions import ExpressionSyntaxError, FlowError
from airflow_cloudflow.model import (
    UNKNOWN_LOCATION, ArrayTemplate, Expression, Literal, Location, ObjectTemplate, Template,
)
from airflow_cloudflow.expressions.asl.functions import json_type
from airflow_cloudflow.expressions.asl.jsonata_bounds import BoundExceeded, MemoryBudget, bounded_functions
from airflow_cloudflow.expressions.asl.jsonata_functions import FunctionFailure, call_problems
from airflow_cloudflow.expressions.asl.jsonata_functions import register as register_step_functions_functions

QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"
# Runtime bounds (docs/expressions.md "JSONata limits"): one evaluation may run for at most
# EVALUATION_TIMEOUT_MS and nest at most MAX_EVALUATION_DEPTH expression nodes (about 500 levels of
# a recursive function); ``$pad`` may not build a string wider than MAX_PAD_WIDTH characters.
EVALUATION_TIMEOUT_MS = 10_000
MAX_EVALUATION_DEPTH = 1_500
MAX_PAD_WIDTH = 1 << 20
OPEN, CLOSE = "{%", "%}"
_JSON_TYPES = (dict, list, str, int, float, bool, type(None))
_STATE_KEYS = ("input", "context", "result", "errorOutput")


def is_jsonata(value: Any) -> bool:
    """"A string that begins with ``{%`` and ends with ``%}``" is a JSONata expression."""
    return isinstance(value, str) and value.startswith(OPEN) and value.endswith(CLOSE) and len(value) >= 4


class _Refused(Exception):
    """A built-in function call this runtime does not carry out (the message says why)."""


_OVERRIDES: dict[str, Any] = {}


def _lib():
    """``jsonata-python``, imported on first use (CloudFlow runs never pay for it)."""
    import jsonata
    from jsonata.jexception import JException
    from jsonata.utils import Utils

    if not _OVERRIDES:
        _OVERRIDES.update(bounded_functions(jsonata.Jsonata))  # memory bounds (jsonata_bounds.py)
        _OVERRIDES.update(_overrides(jsonata.Jsonata))
    return jsonata, JException, Utils


def _overrides(Jsonata: Any) -> dict[str, Any]:
    """Built-ins replaced in every compiled expression's environment:

    * ``$eval`` is disabled: it parses and runs an expression taken from data (the input, a
      variable), which no state machine here needs and which would bypass the bounds on the
      definition's own expressions;
    * ``$pad`` refuses widths above ``MAX_PAD_WIDTH`` (one call would otherwise build a
      gigabyte string before any timeout check runs).
    """
    from jsonata.functions import Functions

    class BoundedPad(Jsonata.JNativeFunction):
        def call(self, input: Any, args: Any) -> Any:
            width = args[1] if args is not None and len(args) > 1 else None
            if isinstance(width, (int, float)) and not isinstance(width, bool) and not abs(width) <= MAX_PAD_WIDTH:
                raise _Refused(f"$pad width {width} is larger than {MAX_PAD_WIDTH}")
            return super().call(input, args)

    class Disabled(Jsonata.JNativeFunction):
        def call(self, input: Any, args: Any) -> Any:
            raise _Refused(f"${self.function_name}() is not supported (it would evaluate an expression taken from data)")

    return {"pad": BoundedPad("pad", "<s-ns?:s>", Functions, "pad"),
            "eval": Disabled("eval", "<sx?:x>", Functions, "function_eval")}


def _builtin_names(Jsonata: Any) -> set[str]:
    """The functions every jsonata-python expression starts with ($string, $map, …)."""
    return set(Jsonata.static_frame.bindings)


def _null(value: Any, null: Any) -> Any:
    """A bound JSON ``null`` must stay ``null`` (jsonata-python reads ``None`` as undefined)."""
    return null if value is None else value


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class JsonataExpression:
    """One compiled expression. ``field`` is the field path used in causes (``Items``,
    ``Output/error``, ``Arguments/Payload``…)."""

    roots: frozenset[str] = frozenset()

    def __init__(self, source: str, field: str = ""):
        self.source = source
        self.field = field
        jsonata, JException, self._utils = _lib()
        self._jexception = JException
        try:
            self._expr = jsonata.Jsonata(source)
        except JException as exc:
            raise ExpressionSyntaxError(f"JSONata syntax error: {exc}", source, getattr(exc, "location", 0) or 0) from None
        problems = call_problems(self._expr.ast, _builtin_names(jsonata.Jsonata))
        if problems:
            raise ExpressionSyntaxError(f"JSONata: {problems[0]}", source, 0)
        self._expr.set_output_convert_nulls(False)
        for name, function in _OVERRIDES.items():
            self._expr.register_function(name, function)
        register_step_functions_functions(self._expr, jsonata.Jsonata)
        from jsonata.timebox import Timebox

        self._timebox = Timebox(self._expr.environment, EVALUATION_TIMEOUT_MS, MAX_EVALUATION_DEPTH)
        self._budget = MemoryBudget(self._expr)
        self._now = Timebox.current_milli_time
        self._lock = threading.Lock()

    def fail(self, detail: str) -> FlowError:
        return FlowError(QUERY_EVALUATION_ERROR, detail)

    def evaluate(self, variables: dict[str, Any]) -> Any:
        null = self._utils.NULL_VALUE
        bindings = {name: _null(value, null) for name, value in (variables.get("variables") or {}).items()}
        bindings["states"] = {key: variables[key] for key in _STATE_KEYS if key in variables}
        try:
            with self._lock:  # a compiled jsonata-python expression keeps evaluation state
                self._timebox.timeout = EVALUATION_TIMEOUT_MS
                self._timebox.time, self._timebox.depth = self._now(), 0  # the bounds count per evaluation
                self._budget.reset()
                value = self._expr.evaluate(None, bindings)
        except RecursionError:
            raise self.fail(f"The JSONata expression '{self.source}' specified for the field '{self.field}' "
                            "exceeded the evaluation depth") from None
        except Exception as exc:  # noqa: BLE001 - JException, but also ZeroDivisionError, ValueError, OverflowError…
            raise self.fail(
                f"The JSONata expression '{self.source}' specified for the field '{self.field}' "
                f"threw an error during evaluation. {_message(exc)}"
            ) from None
        if value is None:
            raise self.fail(
                f"The JSONata expression '{self.source}' specified for the field '{self.field}' "
                "returned nothing (undefined)."
            )
        value = self._utils.convert_nulls(value)
        if not isinstance(value, _JSON_TYPES):
            raise self.fail(
                f"The JSONata expression '{self.source}' specified for the field '{self.field}' "
                "returned an unsupported result type."
            )
        return _plain(value)

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"JsonataExpression({self.source!r}, field={self.field!r})"


def _message(exc: Exception) -> str:
    """The library's message; a plain Python error (``1/0``, ``$number('abc')``) names its type."""
    if isinstance(exc, (_Refused, FunctionFailure, BoundExceeded)) or type(exc).__name__ == "JException":
        return str(exc)
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _plain(value: Any) -> Any:
    """jsonata-python returns list subclasses (sequences); hand back plain JSON values, and
    integral floats as ints (JSONata numbers are doubles; AWS prints ``2``, not ``2.0``)."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def compile_jsonata(value: str, field: str = "") -> JsonataExpression:
    """Compile a ``{% … %}`` string (the text between the markers, stripped)."""
    return JsonataExpression(value[2:-2].strip(), field)


Locator = Callable[[str], Location]


def compile_jsonata_template(value: Any, field: str = "", pointer: str = "", locate: Locator | None = None) -> Template:
    """A JSONata-mode field value: ``{% %}`` strings anywhere inside become expressions, the rest
    is literal (a subtree without any expression folds into one ``Literal``). ``field`` is the
    cause's field path (``Output``, ``Output/error``)."""
    if is_jsonata(value):
        try:
            compiled = compile_jsonata(value, field)
        except ExpressionSyntaxError as exc:
            exc.pointer = pointer  # type: ignore[attr-defined]
            raise
        return Expression(compiled.source, compiled, locate(pointer) if locate else UNKNOWN_LOCATION)
    if isinstance(value, dict):
        fields = tuple(
            (key, compile_jsonata_template(item, f"{field}/{key}" if field else key,
                                           f"{pointer}/{escape_pointer_token(str(key))}", locate))
            for key, item in value.items()
        )
        if all(isinstance(t, Literal) for _, t in fields):
            return Literal(value)
        return ObjectTemplate(fields)
    if isinstance(value, list):
        items = tuple(
            compile_jsonata_template(item, field, f"{pointer}/{i}", locate) for i, item in enumerate(value)
        )
        if all(isinstance(t, Literal) for t in items):
            return Literal(value)
        return ArrayTemplate(items)
    return Literal(value)


__all__ = [
    "QUERY_EVALUATION_ERROR", "JsonataExpression", "compile_jsonata", "compile_jsonata_template",
    "is_jsonata", "json_type",
]
