"""One small handler per state type: ``handler(interpreter, state, input, ctx, retry_count)``
returns ``(raw_output, next)`` where ``raw_output`` is ``$Output`` and ``next`` the state to go to
(None ends the scope). Constructors, Retry and Catch are applied around it by the interpreter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from ..exceptions import ErrorCodes, FlowError
from ..model import Choice, Fail, Map, Parallel, Pass, State, Succeed, Task, Wait
from .clock import seconds_value
from .concurrency import INLINE_MAX_CONCURRENCY, effective_limit, run_bounded
from .context import ExecutionContext
from .evaluation import evaluate, items_from_path, reads_context, state_variables
from .ports import TaskCall, new_task_token
from .tasks import CUSTOM_CALLBACK, _invoke, _invoke_with_timeout

if TYPE_CHECKING:  # pragma: no cover
    from .interpreter import Interpreter

FAIL_DEFAULT_CODE = "FnF.Fail"
"""The error code of a Fail state written without ``Code`` (docs/semantics.md)."""

Handler = Callable[["Interpreter", Any, Any, ExecutionContext, int], tuple[Any, "str | None"]]


def _next(state: State) -> str | None:
    return None if state.end else state.next


def run_pass(interp: "Interpreter", state: Pass, value: Any, ctx: ExecutionContext, retry_count: int):
    """"Forwards its input to its output without doing any work.\""""
    return value, _next(state)


def run_succeed(interp: "Interpreter", state: Succeed, value: Any, ctx: ExecutionContext, retry_count: int):
    """"It acts like ``return``. It ends every state in its own scope successfully.\""""
    return value, None


def run_fail(interp: "Interpreter", state: Fail, value: Any, ctx: ExecutionContext, retry_count: int):
    """"It acts like ``raise``": the scope stops with ``Code``/``Detail``."""
    raise FlowError(state.code or FAIL_DEFAULT_CODE, state.detail, state=state.name)


_CHOICES: dict[int, tuple[Choice, tuple[tuple[Any, bool, str], ...]]] = {}


def _choice_branches(state: Choice) -> tuple[tuple[Any, bool, str], ...]:
    """``(evaluate, reads $Context, next)`` per branch, worked out once per Choice state."""
    found = _CHOICES.get(id(state))
    if found is None or found[0] is not state:
        branches = tuple((b.condition.compiled.evaluate, reads_context(b.condition), b.next) for b in state.branches)
        found = _CHOICES[id(state)] = (state, branches)
    return found[1]


def run_choice(interp: "Interpreter", state: Choice, value: Any, ctx: ExecutionContext, retry_count: int):
    """"Branch conditions are evaluated in order. The first one that evaluates to true wins. If none
    match, the flow goes to ``Default``." Only the boolean ``true`` selects a branch."""
    variables = {"Input": value, "Global": ctx.globals}
    for evaluate_condition, uses_context, next_name in _choice_branches(state):
        if uses_context and "Context" not in variables:
            variables["Context"] = ctx.current(state.name, value, retry_count)
        if evaluate_condition(variables) is True:
            return value, next_name
    if state.default is None:
        raise FlowError(ErrorCodes.RUNTIME, "no Choice branch matched and there is no Default", state=state.name)
    return value, state.default


def _seconds(template: Any, state: State, value: Any, ctx: ExecutionContext, retry_count: int, what: str) -> float:
    raw = evaluate(template, state_variables(template, state, value, ctx, retry_count))
    return seconds_value(raw, what, ErrorCodes.RUNTIME, state=state.name)


def wait_seconds(state: Wait, value: Any, ctx: ExecutionContext, retry_count: int = 0) -> float:
    """``Seconds`` or ``Seconds.$`` evaluated against the state's ``$Input``; a non-negative number."""
    return _seconds(state.seconds, state, value, ctx, retry_count, "Wait Seconds")


def run_wait(interp: "Interpreter", state: Wait, value: Any, ctx: ExecutionContext, retry_count: int):
    """Waits ``Seconds`` (or ``Seconds.$``) through the clock; "Output = input, as for Pass"."""
    seconds = wait_seconds(state, value, ctx, retry_count)
    left = ctx.seconds_left()
    if left is not None and seconds > left:
        ctx.clock.sleep(max(left, 0.0))
        raise FlowError(ErrorCodes.TIMEOUT, "the execution exceeded its Timeout", state=state.name)
    ctx.clock.sleep(seconds)
    return value, _next(state)


def run_task(interp: "Interpreter", state: Task, value: Any, ctx: ExecutionContext, retry_count: int):
    """"Parameters are evaluated against ``$Input``/``$Context``/``$Global``, and the call is made";
    ``$Output`` = the raw result. "``0`` means never time out"; a Task past its ``Timeout`` fails
    with ``FnF.TaskTimeout``. ``WaitForCustomCallback``: "CloudFlow sends a task token
    (``$Context.Current.TaskToken``) with the request" -- minted here, visible to Parameters, and
    carried by the call."""
    token = None
    if state.task_mode == CUSTOM_CALLBACK:
        token = new_task_token(ctx.name, state.name)
    params = None
    if state.parameters is not None:
        current = {"TaskToken": token} if token is not None else {}
        params = evaluate(state.parameters, state_variables(state.parameters, state, value, ctx, retry_count, **current))
    timeout = 0.0
    if state.timeout is not None:
        timeout = _seconds(state.timeout, state, value, ctx, retry_count, "Task Timeout")
    call = TaskCall(state.action, params, state.task_mode, state.name, ctx.name, task_token=token)
    left = ctx.seconds_left()
    code = ErrorCodes.TASK_TIMEOUT
    if left is not None and (timeout == 0 or left < timeout):
        timeout, code = max(left, 0.0), ErrorCodes.TIMEOUT
    if timeout > 0:
        return _invoke_with_timeout(interp, call, ctx, timeout, code), _next(state)
    return _invoke(interp, call), _next(state)


def run_parallel(interp: "Interpreter", state: Parallel, value: Any, ctx: ExecutionContext, retry_count: int):
    """"Every branch receives the same input"; "All branches start concurrently"; "The combined
    output is a map keyed ``Branch<Index>``". An uncaught branch failure fails the Parallel."""
    branches = state.branches

    def run_branch(index: int) -> tuple[int, Any]:
        return index, interp.run_graph(branches[index], value, ctx)

    threaded = any(interp.may_block(b) for b in branches)
    results = dict(run_bounded(run_branch, range(len(branches)), limit=len(branches), threaded=threaded))
    return {f"Branch{i}": results[i] for i in range(len(branches))}, _next(state)


def run_map(interp: "Interpreter", state: Map, value: Any, ctx: ExecutionContext, retry_count: int):
    """Inline: "Start one sub-flow per element … bounded by MaxConcurrency … the results array under
    the key ``Items``", in input order. Distributed Maps go to ``fanout``."""
    if state.distributed:
        from .fanout import run_distributed

        runner = interp.distributed_runner or run_distributed
        return runner(interp, state, value, ctx, retry_count), _next(state)
    items = items_from_path(state, value, ctx, retry_count)
    processor = state.processor

    def run_item(pair: tuple[int, Any]) -> tuple[int, Any]:
        return pair[0], interp.run_graph(processor, pair[1], ctx)

    limit = effective_limit(state.max_concurrency, INLINE_MAX_CONCURRENCY)
    outputs: list[Any] = [None] * len(items)
    for index, output in run_bounded(run_item, enumerate(items), limit=limit, threaded=interp.may_block(processor)):
        outputs[index] = output
    return {"Items": outputs}, _next(state)


HANDLERS: dict[type, Handler] = {
    Pass: run_pass,
    Succeed: run_succeed,
    Fail: run_fail,
    Choice: run_choice,
    Wait: run_wait,
    Task: run_task,
    Parallel: run_parallel,
    Map: run_map,
}
"""State type → handler: an explicit registry."""
