"""ASL payload templates (``Parameters``, ``ItemSelector``, ``ResultSelector``, ``Result``).

"A key ending in ``.$`` means the value is an expression … The suffix is stripped from the
resulting key" (model.py).  Its value must be a path (``$…``), a context path (``$$…``), a
variable path (``$name…``) or an intrinsic call (``States.…``); anything else is a compile error.
Other values are literals; a subtree without any ``.$`` key folds into one ``Literal``.

At run time a path that matches nothing fails with AWS's text (recorded in AWS histories):
``States.Runtime`` "The JSONPath '$.x' specified for the field 'x.$' could not be found in the
input '{…}'" (the input printed as compact JSON; for a ``$$`` path, the context object).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from airflow_cloudflow.diagnostics import escape_pointer_token
from airflow_cloudflow.exceptions import ExpressionSyntaxError, FlowError
from airflow_cloudflow.model import (
    UNKNOWN_LOCATION, ArrayTemplate, Expression, Literal, Location, ObjectTemplate, Template,
)
from airflow_cloudflow.expressions.asl.intrinsics import IntrinsicCall, compile_intrinsic, is_intrinsic
from airflow_cloudflow.expressions.asl.jsonpath import JsonPath, PathNotFound, compact_json, compile_path
from airflow_cloudflow.expressions.templates import evaluate_template

SUFFIX = ".$"
Locator = Callable[[str], Location]


@dataclass(frozen=True)
class PayloadBinding:
    """The compiled value of one ``key.$`` field: a path or an intrinsic call, plus the field name
    used in error causes."""

    source: str
    field: str
    compiled: "JsonPath | IntrinsicCall"

    def evaluate(self, variables: dict[str, Any]) -> Any:
        try:
            return self.compiled.evaluate(variables)
        except PathNotFound as exc:
            path = exc.path or self.source
            if path.startswith("$$"):
                shown = variables.get("context")
            elif isinstance(self.compiled, JsonPath) and self.compiled.root == "variable":
                raise FlowError(exc.code, exc.detail) from None
            else:
                shown = variables.get("input")
            raise FlowError(
                exc.code,
                f"The JSONPath '{path}' specified for the field '{self.field}' "
                f"could not be found in the input '{compact_json(shown)}'",
            ) from None


def compile_binding(source: Any, field: str = "") -> PayloadBinding:
    """Compile the value of a ``.$`` field; raise ``ExpressionSyntaxError`` when it is neither a
    path nor an intrinsic call."""
    if not isinstance(source, str):
        raise ExpressionSyntaxError(
            f"the value of '{field}' must be a string holding a path or an intrinsic call",
            repr(source),
            0,
        )
    if source.lstrip(" ").startswith("$"):
        return PayloadBinding(source, field, compile_path(source))
    if is_intrinsic(source):
        return PayloadBinding(source, field, compile_intrinsic(source))
    raise ExpressionSyntaxError(
        f"the value of '{field}' must be a JSONPath ('$…', '$$…') or an intrinsic call "
        "('States.…')",
        source,
        0,
    )


def compile_payload(value: Any, pointer: str = "", locate: Locator | None = None) -> Template:
    """Compile a payload template. ``pointer`` is the RFC 6901 pointer of ``value`` (put on a
    raised ``ExpressionSyntaxError`` as ``.pointer``); ``locate`` maps pointers to locations."""
    if isinstance(value, dict):
        fields: list[tuple[str, Template]] = []
        seen: set[str] = set()
        for key, item in value.items():
            child = f"{pointer}/{escape_pointer_token(str(key))}"
            if isinstance(key, str) and key.endswith(SUFFIX):
                name = key[: -len(SUFFIX)]
                try:
                    binding = compile_binding(item, key)
                except ExpressionSyntaxError as exc:
                    exc.pointer = child  # type: ignore[attr-defined]
                    raise
                where = locate(child) if locate else UNKNOWN_LOCATION
                template: Template = Expression(binding.source, binding, where)
            else:
                name = key
                template = compile_payload(item, child, locate)
            if name in seen:
                exc = ExpressionSyntaxError(f"duplicate field {name!r} after stripping '.$'", key, 0)
                exc.pointer = child  # type: ignore[attr-defined]
                raise exc
            seen.add(name)
            fields.append((name, template))
        if all(isinstance(t, Literal) for _, t in fields):
            return Literal({k: t.value for k, t in fields})  # type: ignore[union-attr]
        return ObjectTemplate(tuple(fields))
    if isinstance(value, list):
        items = tuple(compile_payload(v, f"{pointer}/{i}", locate) for i, v in enumerate(value))
        if all(isinstance(t, Literal) for t in items):
            return Literal([t.value for t in items])  # type: ignore[union-attr]
        return ArrayTemplate(items)
    return Literal(value)


def evaluate_payload(template: Template, variables: dict[str, Any]) -> Any:
    """Build the JSON value of a compiled payload (``variables``: ``input``, ``context``, …);
    the generic template walker does the work."""
    return evaluate_template(template, variables)
