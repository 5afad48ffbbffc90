"""ASL state handlers: ``handler(interpreter, frame) -> (result, next[, chosen Choice rule's AslIO])``.

``frame.value`` is the effective input (after ``InputPath``; the raw input in JSONata). The result
then goes through ResultSelector/ResultPath/OutputPath (or Output) and Assign in ``asl_run``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_cloudflow.exceptions import ErrorCodes, FlowError
from airflow_cloudflow.expressions.asl.choice import parse_timestamp
from airflow_cloudflow.model import Choice, Fail, Map, Parallel, Pass, State, Succeed, Task, Wait
from airflow_cloudflow.runtime.asl.context import next_event, scoped
from airflow_cloudflow.runtime.asl.map import MapView
from airflow_cloudflow.runtime.asl.run import Frame, asl_error, piecewise_frame
from airflow_cloudflow.runtime.clock import MAX_SECONDS, seconds_value
from airflow_cloudflow.runtime.concurrency import INLINE_MAX_CONCURRENCY, effective_limit, run_bounded
from airflow_cloudflow.runtime.context import ExecutionContext
from airflow_cloudflow.runtime.evaluation import evaluate
from airflow_cloudflow.runtime.ports import TaskCall, new_task_token
from airflow_cloudflow.runtime.tasks import CUSTOM_CALLBACK, _invoke, _invoke_with_timeout

if TYPE_CHECKING:  # pragma: no cover
    from airflow_cloudflow.runtime.interpreter import Interpreter

RUNTIME = "States.Runtime"


def _next(state) -> str | None:
    return None if state.end else state.next


def _payload(frame: Frame, default: Any) -> Any:
    """``Parameters`` (JSONPath, over the effective input) or ``Arguments`` (JSONata)."""
    template = frame.state.asl.parameters
    return default if template is None else evaluate(template, frame.variables())


def run_pass(interp: "Interpreter", frame: Frame):
    """"Passes its input to its output": ``Result`` if given, else the (Parameters-shaped) input."""
    io = frame.state.asl
    if io.result is not None:
        return evaluate(io.result, frame.variables()), _next(frame.state)
    return _payload(frame, frame.value), _next(frame.state)


def run_succeed(interp: "Interpreter", frame: Frame):
    return frame.value, None


def run_fail(interp: "Interpreter", frame: Frame):
    """``Error``/``Cause``, or ``ErrorPath``/``CausePath`` (paths or intrinsics; JSONata expressions)."""
    state: Fail = frame.state  # type: ignore[assignment]
    variables = frame.variables()
    code = evaluate(state.code_template, variables) if state.code_template is not None else state.code
    cause = evaluate(state.detail_template, variables) if state.detail_template is not None else state.detail
    # A Fail state without Error fails with no error name at all [REC imap_map_state_catch_empty_fail].
    raise FlowError(code, cause, state=state.name)  # type: ignore[arg-type]


def run_choice(interp: "Interpreter", frame: Frame):
    """"Choice Rules are evaluated in order; the first match wins"; no match and no ``Default``:
    ``States.NoChoiceMatched``."""
    state: Choice = frame.state  # type: ignore[assignment]
    variables = frame.variables()
    for branch in state.branches:
        if branch.condition.compiled.evaluate(variables) is True:
            return frame.value, branch.next, branch.asl
    if state.default is None:
        raise FlowError("States.NoChoiceMatched", "No Matches!", state=state.name)
    return frame.value, state.default


def _number(value: Any, what: str) -> float:
    return seconds_value(value, what, RUNTIME, asl=True)


def run_wait(interp: "Interpreter", frame: Frame):
    """Waits ``Seconds``/``SecondsPath``, or until ``Timestamp``/``TimestampPath``, on the clock."""
    seconds = wait_seconds(frame)
    ctx = frame.ctx
    left = ctx.seconds_left()
    if left is not None and seconds > left:
        ctx.clock.sleep(max(left, 0.0))
        raise FlowError(ErrorCodes.TIMEOUT, "the execution exceeded its TimeoutSeconds", state=frame.state.name)
    ctx.clock.sleep(seconds)
    return frame.value, _next(frame.state)


def wait_seconds(frame: Frame) -> float:
    state: Wait = frame.state  # type: ignore[assignment]
    variables = frame.variables()
    if state.timestamp is not None:
        raw = evaluate(state.timestamp, variables)
        moment = parse_timestamp(raw)
        if moment is None:
            raise FlowError(RUNTIME, f"The Timestamp value '{raw}' is not a valid RFC 3339 timestamp")
        seconds = (moment - frame.ctx.clock.now()).total_seconds()
        if seconds > MAX_SECONDS:  # year 9999 used to overflow the sleep
            raise FlowError(RUNTIME, f"The Timestamp value '{raw}' is more than {MAX_SECONDS} seconds away")
        return max(seconds, 0.0)
    return _number(evaluate(state.seconds, variables), "Seconds")


def piecewise_wait_seconds(state: State, raw: Any, ctx: ExecutionContext) -> float:
    """Seconds an ASL Wait entered with ``raw`` waits (so the engine can defer instead of sleeping)."""
    frame = piecewise_frame(state, raw, ctx)
    try:
        return wait_seconds(frame)
    except FlowError as exc:
        raise asl_error(exc, state, frame.entered_id) from None


def run_task(interp: "Interpreter", frame: Frame):
    """Calls ``Resource`` through the integrations registry with the Parameters/Arguments.
    "``TimeoutSeconds`` … the state fails with ``States.Timeout``" when the call runs longer.

    ``.waitForTaskToken``: a task token is minted per attempt (``$$.Task.Token``, for the
    Parameters/Arguments to send), and the Task waits until ``SendTaskSuccess``/``SendTaskFailure``
    (``airflow-cloudflow callback succeed|fail``) completes it; ``HeartbeatSeconds`` without a
    ``SendTaskHeartbeat`` fail it with ``States.HeartbeatTimeout``. A mocked resource completes its
    own token with the mock's answer (docs/integrations.md)."""
    state: Task = frame.state  # type: ignore[assignment]
    ctx = frame.ctx
    token, heartbeat = None, None
    if state.task_mode == CUSTOM_CALLBACK:
        token = new_task_token(ctx.name, state.name)
        frame = frame._replace(context={**frame.context, "Task": {"Token": token}})
        if state.heartbeat is not None:
            heartbeat = _number(evaluate(state.heartbeat, frame.variables()), "HeartbeatSeconds") or None
    payload = _payload(frame, frame.value)
    timeout = 0.0
    if state.timeout is not None:
        timeout = _number(evaluate(state.timeout, frame.variables()), "TimeoutSeconds")
    call = TaskCall(state.action, payload, state.task_mode if token else "RequestComplete", state.name, ctx.name,
                    task_token=token, heartbeat_seconds=heartbeat)
    next_event(ctx, 2)  # …Scheduled, …Started
    try:
        result = _call(interp, call, ctx, timeout)
    finally:
        next_event(ctx)  # …Succeeded / …Failed / …TimedOut
    return result, _next(state)


def _call(interp: "Interpreter", call: TaskCall, ctx, timeout: float) -> Any:
    duration = getattr(interp.integrations, "duration", None)
    known = duration(call) if duration is not None else None
    if known:  # a fake with a known run time (the ``wait_60_seconds`` Lambda): time it on the clock
        if timeout and known > timeout:
            ctx.clock.sleep(timeout)
            raise FlowError("States.Timeout", None, state=call.state_name)
        ctx.clock.sleep(known)
    left = ctx.seconds_left()
    if left is not None and (timeout == 0 or left < timeout):
        return _invoke_with_timeout(interp, call, ctx, max(left, 0.0), ErrorCodes.TIMEOUT)
    try:
        if timeout > 0 and not known:
            return _invoke_with_timeout(interp, call, ctx, timeout, ErrorCodes.TASK_TIMEOUT)
        return _invoke(interp, call)
    except FlowError as err:
        # a Task past its TimeoutSeconds (here, or a task token not completed in time under Airflow)
        if err.code == ErrorCodes.TASK_TIMEOUT:
            raise FlowError("States.Timeout", None, state=call.state_name) from None
        raise


def run_parallel(interp: "Interpreter", frame: Frame):
    """"Every branch receives the same input"; the output is the array of the branches' outputs."""
    state: Parallel = frame.state  # type: ignore[assignment]
    value = _payload(frame, frame.value)
    ctx = frame.ctx
    next_event(ctx)  # ParallelStateStarted

    def run_branch(index: int) -> tuple[int, Any]:
        return index, interp.run_graph(state.branches[index], value, scoped(ctx))

    threaded = any(interp.may_block(b) for b in state.branches)
    results = dict(run_bounded(run_branch, range(len(state.branches)), limit=len(state.branches) or 1,
                               threaded=threaded))
    next_event(ctx)  # ParallelStateSucceeded
    return [results[i] for i in range(len(state.branches))], _next(state)


def run_map(interp: "Interpreter", frame: Frame):
    """Inline: one iteration per item, bounded by MaxConcurrency (at most 40), results in input
    order. Distributed: a Map Run (``asl_map.run_distributed`` or the Airflow engine's runner)."""
    state: Map = frame.state  # type: ignore[assignment]
    ctx = frame.ctx
    view = MapView(state, frame.raw, ctx, frame.context)
    limit, _, _ = view.limits()
    if state.distributed:
        from airflow_cloudflow.runtime.asl.map import run_distributed

        runner = interp.distributed_runner or run_distributed
        next_event(ctx, 2)  # MapStateStarted, MapRunStarted
        result = runner(interp, state, frame.raw, ctx, frame.retry_count)
        next_event(ctx, 2)  # MapRunSucceeded, MapStateSucceeded
        return result, _next(state)
    items = list(view.selected(interp))
    next_event(ctx)  # MapStateStarted
    processor = state.processor

    def run_item(pair: tuple[int, Any]) -> tuple[int, Any]:
        next_event(ctx)  # MapIterationStarted
        output = interp.run_graph(processor, pair[1], scoped(ctx))
        next_event(ctx)  # MapIterationSucceeded
        return pair[0], output

    outputs: list[Any] = [None] * len(items)
    bound = effective_limit(limit, INLINE_MAX_CONCURRENCY)
    for index, output in run_bounded(run_item, enumerate(items), limit=bound, threaded=interp.may_block(processor)):
        outputs[index] = output
    next_event(ctx)  # MapStateSucceeded
    return outputs, _next(state)


ASL_HANDLERS = {
    Pass: run_pass,
    Succeed: run_succeed,
    Fail: run_fail,
    Choice: run_choice,
    Wait: run_wait,
    Task: run_task,
    Parallel: run_parallel,
    Map: run_map,
}
"""State type → ASL handler (used for every state that carries ``asl``)."""
