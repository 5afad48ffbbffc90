"""Evaluating the model's templates at run time, building only the variables they read.

"``$Input`` = ``$Context.Current.Input``, ``$Output`` = ``$Context.Current.Output``" (§2.5):
``$Context`` is a fresh object per state, so it is built only for templates that read it. What a
template reads is worked out once per template (from the compiled expressions' ``roots``).
"""

from __future__ import annotations

from typing import Any

from ..expressions.templates import evaluate_template
from ..model import ArrayTemplate, Expression, Literal, ObjectTemplate, Template

_ROOTS: dict[int, frozenset[str]] = {}
_KEEP: list[Any] = []  # keeps templates alive so their ids stay unique while cached


def _expression_roots(expression: Expression) -> frozenset[str]:
    roots = getattr(expression.compiled, "roots", None)
    if roots is not None:
        return frozenset(roots)
    source = expression.source
    found = {name for name in ("Input", "Output", "Context", "Global", "Item") if f"${name}" in source}
    if "$$" in source:
        found.add("Context")
    return frozenset(found)


def _compute_roots(template: Any) -> frozenset[str]:
    kind = type(template)
    if kind is Literal or template is None:
        return frozenset()
    if isinstance(template, Expression):
        return _expression_roots(template)
    if isinstance(template, ObjectTemplate):
        out: set[str] = set()
        for _, value in template.fields:
            out |= _compute_roots(value)
        return frozenset(out)
    if isinstance(template, ArrayTemplate):
        out = set()
        for item in template.items:
            out |= _compute_roots(item)
        return frozenset(out)
    return frozenset()


def roots(template: Template | Expression | None) -> frozenset[str]:
    """The variable names (``Input``, ``Context``, …) a template reads; memoised per object."""
    key = id(template)
    found = _ROOTS.get(key)
    if found is None:
        found = _compute_roots(template)
        _ROOTS[key] = found
        _KEEP.append(template)
    return found


def reads_context(template: Template | Expression | None) -> bool:
    """True when building ``$Context`` for this template is needed."""
    return "Context" in roots(template)


evaluate = evaluate_template
