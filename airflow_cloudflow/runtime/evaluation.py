"""Evaluating the model's templates at run time, from a compiled form, building only the
variables they read.

A template is turned once into a closure ``run(variables) -> value`` (a ``Literal`` returns its
value, shared and never mutated; an object template builds a new dict of its fields' values), and
"``$Input`` = ``$Context.Current.Input``" (§2.5): ``$Context`` is a fresh object per state, so it
is built only for templates that read it. What a template reads is worked out once (from the
compiled expressions' ``roots``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, NamedTuple

from ..exceptions import ErrorCodes, FlowError
from ..model import ArrayTemplate, Expression, Literal, Map, ObjectTemplate, State

if TYPE_CHECKING:  # pragma: no cover
    from .context import ExecutionContext

Run = Callable[[dict], Any]


class Compiled(NamedTuple):
    """A template ready to run: ``run(variables)`` and whether it reads ``$Context``."""

    run: Run
    context: bool


_CACHE: dict[int, tuple[Any, Compiled]] = {}  # id -> (template kept alive, compiled)


def _expression_roots(expression: Expression) -> frozenset[str]:
    roots = getattr(expression.compiled, "roots", None)
    if roots is not None:
        return frozenset(roots)
    source = expression.source
    found = {name for name in ("Input", "Output", "Context", "Global", "Item") if f"${name}" in source}
    if "$$" in source:
        found.add("Context")
    return frozenset(found)


def _build(template: Any, raw: bool) -> tuple[Run, bool]:
    """``raw`` builds from the expressions' bare runners (no per-expression error wrapping)."""
    if isinstance(template, Literal):
        value = template.value
        return (lambda _variables: value), False
    if isinstance(template, Expression):
        run = getattr(template.compiled, "_run", None) if raw else None
        return (run or template.compiled.evaluate), "Context" in _expression_roots(template)
    if isinstance(template, ObjectTemplate):
        built = [(key, _build(value, raw)) for key, value in template.fields]
        pairs = tuple((key, run) for key, (run, _) in built)
        uses_context = any(ctx for _, (_, ctx) in built)
        return (lambda variables: {key: run(variables) for key, run in pairs}), uses_context
    if isinstance(template, ArrayTemplate):
        built_items = [_build(item, raw) for item in template.items]
        runs = tuple(run for run, _ in built_items)
        return (lambda variables: [run(variables) for run in runs]), any(ctx for _, ctx in built_items)
    raise TypeError(f"not a template: {type(template).__name__}")


def _guarded(fast: Run, safe: Run) -> Run:
    """Run the bare runners; on any exception re-run the wrapped ones, which raise the proper
    ``FlowError`` (evaluation is pure, so the second run fails the same way)."""

    def run(variables: dict) -> Any:
        try:
            return fast(variables)
        except Exception:
            return safe(variables)

    return run


def compiled(template: Any) -> Compiled:
    """The compiled form of ``template`` (memoised per template object)."""
    found = _CACHE.get(id(template))
    if found is not None and found[0] is template:
        return found[1]
    safe, context = _build(template, raw=False)
    if isinstance(template, Literal):
        run = safe
    else:
        run = _guarded(_build(template, raw=True)[0], safe)
    result = Compiled(run, context)
    _CACHE[id(template)] = (template, result)
    return result


def reads_context(template: Any) -> bool:
    """True when building ``$Context`` for this template is needed."""
    return compiled(template).context


def evaluate(template: Any, variables: dict) -> Any:
    """The JSON value ``template`` stands for under ``variables``."""
    return compiled(template).run(variables)


def state_variables(
    template: Any, state: State, value: Any, ctx: ExecutionContext, retry_count: int = 0, **current: Any
) -> dict:
    """Variables for a template evaluated during ``state``'s work (``$Input`` = its input);
    ``current`` adds fields to ``$Context.Current`` (e.g. ``TaskToken``)."""
    variables = {"Input": value, "Global": ctx.globals}
    if reads_context(template):
        variables["Context"] = ctx.current(state.name, value, retry_count, **current)
    return variables


def items_from_path(state: Map, value: Any, ctx: ExecutionContext, retry_count: int = 0) -> list:
    """"``ItemsPath`` … Must evaluate to a JSON array. May use ``$Input`` and ``$Context``"."""
    if state.items_path is None:
        raise FlowError(ErrorCodes.RUNTIME, "the Map has no ItemsPath", state=state.name)
    items = state.items_path.compiled.evaluate(state_variables(state.items_path, state, value, ctx, retry_count))
    if not isinstance(items, list):
        raise FlowError(
            ErrorCodes.RUNTIME,
            f"ItemsPath {state.items_path.source!r} must give an array, got {type(items).__name__}",
            state=state.name,
        )
    return items
