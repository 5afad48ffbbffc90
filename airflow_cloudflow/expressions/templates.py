"""Evaluate a model template (``Literal``/``Expression``/``ObjectTemplate``/``ArrayTemplate``).

"A key ending in ``.$`` means the value is an expression … Without ``.$``, the value is a
literal" (§2.3). A ``Literal`` is returned as is (shared, never copied, never mutated); an
``ObjectTemplate``/``ArrayTemplate`` builds a new container on every call.
"""

from __future__ import annotations

from typing import Any

from ..model import ArrayTemplate, Expression, Literal, ObjectTemplate, Template


def evaluate_template(template: Template, variables: dict[str, Any]) -> Any:
    """The JSON value ``template`` stands for, with its expressions evaluated against
    ``variables``. Expression failures propagate as ``FlowError(FnF.RuntimeError, …)``."""
    kind = type(template)
    if kind is Literal:
        return template.value  # type: ignore[union-attr]
    if kind is Expression:
        return template.compiled.evaluate(variables)  # type: ignore[union-attr]
    if kind is ObjectTemplate:
        return {
            key: evaluate_template(value, variables)
            for key, value in template.fields  # type: ignore[union-attr]
        }
    if kind is ArrayTemplate:
        return [evaluate_template(item, variables) for item in template.items]  # type: ignore[union-attr]
    return _evaluate_subclass(template, variables)


def _evaluate_subclass(template: Any, variables: dict[str, Any]) -> Any:
    """Slow path for subclasses of the template types (the exact-type checks above are the fast
    path); anything else is a programming error."""
    if isinstance(template, Literal):
        return template.value
    if isinstance(template, Expression):
        return template.compiled.evaluate(variables)
    if isinstance(template, ObjectTemplate):
        return {key: evaluate_template(value, variables) for key, value in template.fields}
    if isinstance(template, ArrayTemplate):
        return [evaluate_template(item, variables) for item in template.items]
    raise TypeError(f"not a template: {type(template).__name__}")
