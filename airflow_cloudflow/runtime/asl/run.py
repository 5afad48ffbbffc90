"""Running one state that carries ASL processing (``State.asl``): input/output processing, Retry,
Catch, Assign, and AWS's error texts.

JSONPath (asl-distributed-map.md §2.8): "``InputPath``, then … the state's work …; then
``ResultSelector``, applied to the result; then ``ResultPath``, applied to the **raw state input**;
then ``OutputPath``". JSONata (§2.10): ``Arguments`` from ``$states.input``; "``Output`` replaces
``ResultSelector``, ``ResultPath`` and ``OutputPath``"; ``Assign`` sets variables for the next
states. Retry: "The first retrier whose ``ErrorEquals`` matches is used"; Catch "without ResultPath
replaces the output with ``{"Error": …, "Cause": …}``". ``States.Runtime`` "cannot be caught, not
even with an explicit catcher". Runtime and query errors carry the prefix "An error occurred while
executing the state 'S' (entered at the event id #N)."
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from airflow_cloudflow.exceptions import ErrorCodes, FlowError
from airflow_cloudflow.expressions.asl.io_paths import (
    apply_input_path, apply_output_path, apply_result_path, state_cause,
)
from airflow_cloudflow.model import AslIO, CatchRule, Literal, State
from airflow_cloudflow.runtime.asl.context import assign, context_object, next_event, prepare, variables_for
from airflow_cloudflow.runtime.context import ExecutionContext
from airflow_cloudflow.runtime.errors import RetryBudget, first_match
from airflow_cloudflow.runtime.evaluation import evaluate
from airflow_cloudflow.runtime.records import StepResult

if TYPE_CHECKING:  # pragma: no cover
    from airflow_cloudflow.runtime.interpreter import Interpreter, StatePlan

PREFIXED = ("States.Runtime", "States.QueryEvaluationError")
FINAL = "_asl_final"
CODE_NAMES = {
    ErrorCodes.RUNTIME: "States.Runtime",
    ErrorCodes.TASK_TIMEOUT: "States.Timeout",
    ErrorCodes.TIMEOUT: "States.Timeout",
    ErrorCodes.TASK_FAILED: "States.TaskFailed",
    ErrorCodes.ITEM_READER_FAILED: "States.ItemReaderFailed",
    ErrorCodes.RESULT_WRITER_FAILED: "States.ResultWriterFailed",
    ErrorCodes.TOLERANCE_EXCEEDED: "States.ExceedToleratedFailureThreshold",
}
"""Errors raised by the shared runtime under CloudFlow names, renamed for ASL states."""


class Frame(NamedTuple):
    """One attempt of one state: what its handler needs."""

    state: State
    raw: Any  # the state input as received
    value: Any  # the effective input (after InputPath; JSONata: the raw input)
    ctx: ExecutionContext
    context: dict[str, Any]  # $$
    retry_count: int
    entered_id: int

    def variables(self, value: Any = None, **extra: Any) -> dict[str, Any]:
        return variables_for(self.ctx, self.value if value is None else value, self.context, **extra)


def _with_retry(state: State) -> bool:
    return hasattr(state, "retry")


def run_asl_state(interp: "Interpreter", state: State, plan: "StatePlan", raw: Any, ctx: ExecutionContext):
    """Run ``state`` with its Retry and Catch; returns ``StepResult`` or raises ``FlowError``."""
    prepare(ctx)
    entered_id = next_event(ctx)
    entered = ctx.clock.now()
    budget = RetryBudget(plan.retry) if plan.retry else None
    retry_count = 0
    while True:
        try:
            if ctx.deadline is not None:
                ctx.check_deadline()
            output, next_name = attempt(interp, state, plan, raw, ctx, retry_count, entered, entered_id)
            next_event(ctx)  # …StateExited
            return StepResult(output, next_name)
        except FlowError as exc:
            err = asl_error(exc, state, entered_id)
        if getattr(err, FINAL, False):
            raise err
        delay = budget.next_delay(err.code) if budget is not None else None
        if delay is None:
            break
        left = ctx.seconds_left()
        if left is not None and delay > left:
            ctx.clock.sleep(max(left, 0.0))
            raise final(FlowError("States.Timeout", None, state=state.name))
        ctx.clock.sleep(delay)
        retry_count = budget.total
        ctx.enter_state(state.name, "asl")  # a retry is a transition too (bounds.STATE_TRANSITIONS)
    found = first_match(plan.catch, err.code) if plan.catch else None
    if found is None:
        raise err
    rule = found[1]
    ctx_obj = context_object(ctx, state.name, entered, retry_count if _with_retry(state) else None)
    try:
        output = catch_output(rule, raw, err, ctx, ctx_obj)
    except FlowError as exc:
        raise asl_error(exc, state, entered_id) from None
    next_event(ctx)
    return StepResult(output, rule.next)


def final(err: FlowError) -> FlowError:
    """Mark an error that ends the execution whatever the Retry/Catch rules say (its timeout)."""
    setattr(err, FINAL, True)
    return err


def asl_error(err: FlowError, state: State, entered_id: int) -> FlowError:
    """Rename shared-runtime codes to ``States.*`` and prefix runtime causes with the state."""
    was_timeout = err.code == ErrorCodes.TIMEOUT
    code = CODE_NAMES.get(err.code, err.code)
    if code != err.code:
        err.code = code
        if was_timeout:
            final(err)
    if code in PREFIXED and not getattr(err, "_asl_prefixed", False):
        err.detail = state_cause(state.name, entered_id, err.detail or "")
        err._asl_prefixed = True  # type: ignore[attr-defined]
    if err.state is None:
        err.state = state.name
    return err


def attempt(interp, state, plan, raw, ctx, retry_count, entered, entered_id) -> tuple[Any, str | None]:
    io: AslIO = state.asl  # type: ignore[assignment]
    context = context_object(ctx, state.name, entered, retry_count if _with_retry(state) else None)
    value = raw if io.jsonata else input_path(io, raw, ctx, context)
    frame = Frame(state, raw, value, ctx, context, retry_count, entered_id)
    out = plan.handler(interp, frame)
    return finish(io, frame, out[0], out[1], out[2] if len(out) > 2 else None)


def input_path(io: AslIO, raw: Any, ctx: ExecutionContext, context: dict) -> Any:
    """``InputPath``: absent → the raw input; ``null`` → ``{}``."""
    path = io.input_path
    if path is None:
        return raw
    if isinstance(path, Literal):
        return {}
    return apply_input_path(raw, path.compiled, context, ctx.globals)


def finish(io: AslIO, frame: Frame, result: Any, next_name: str | None, branch_io: AslIO | None = None):
    """``(output, next)`` from the handler's result; Assign takes effect after the outputs are
    computed (a state's outputs see the variables as they were before it)."""
    ctx = frame.ctx
    if io.jsonata:
        variables = variables_for(ctx, frame.raw, frame.context, result=result)
        output = evaluate(io.output, variables) if io.output is not None else result
        values = evaluate(io.assign, variables) if io.assign is not None else None
        if branch_io is not None:  # a JSONata Choice rule's own Output / Assign
            if branch_io.output is not None:
                output = evaluate(branch_io.output, variables)
            if branch_io.assign is not None:
                values = {**(values or {}), **evaluate(branch_io.assign, variables)}
        assign(ctx, values)
        return output, next_name
    if io.result_selector is not None:
        result = evaluate(io.result_selector, variables_for(ctx, result, frame.context))
    values = evaluate(io.assign, variables_for(ctx, result, frame.context)) if io.assign is not None else None
    if branch_io is not None and branch_io.assign is not None:
        values = {**(values or {}), **evaluate(branch_io.assign, variables_for(ctx, result, frame.context))}
    output = result_path(io, frame.raw, result)
    if io.output_path is not None:
        output = {} if isinstance(io.output_path, Literal) else apply_output_path(
            output, io.output_path.compiled, frame.context, ctx.globals)
    assign(ctx, values)
    return output, next_name


def result_path(io: AslIO, raw: Any, result: Any) -> Any:
    """``ResultPath``: absent → the result; ``null`` → the raw input; else the result placed in it."""
    path = io.result_path
    if path is None:
        return result
    if isinstance(path, Literal):
        return raw
    return apply_result_path(raw, result, path.compiled)


def error_output(err: FlowError) -> dict[str, Any]:
    """What a catcher passes on: ``{"Error": …, "Cause": …}`` (``Cause`` omitted when there is none)."""
    out: dict[str, Any] = {"Error": err.code}
    if err.detail is not None:
        out["Cause"] = err.detail
    return out


def catch_output(rule: CatchRule, raw: Any, err: FlowError, ctx: ExecutionContext, context: dict) -> Any:
    """The input of the catcher's ``Next``: ResultPath over the raw input (JSONPath) or ``Output``
    with ``$states.errorOutput`` (JSONata); then the catcher's ``Assign``."""
    error = error_output(err)
    io = rule.asl
    if io is None:
        return error
    if io.jsonata:
        variables = variables_for(ctx, raw, context, errorOutput=error)
        output = evaluate(io.output, variables) if io.output is not None else error
        values = evaluate(io.assign, variables) if io.assign is not None else None
    else:
        values = evaluate(io.assign, variables_for(ctx, error, context)) if io.assign is not None else None
        output = result_path(io, raw, error)
    assign(ctx, values)
    return output


# ---------------------------------------------------------------- piecewise (the Airflow engine's Wait)


def piecewise_frame(state: State, raw: Any, ctx: ExecutionContext) -> Frame:
    """The frame of an ASL state entered with ``raw`` whose work is done elsewhere."""
    prepare(ctx)
    context = context_object(ctx, state.name)
    io: AslIO = state.asl  # type: ignore[assignment]
    value = raw if io.jsonata else input_path(io, raw, ctx, context)
    return Frame(state, raw, value, ctx, context, 0, next_event(ctx))


def piecewise_finish(state: State, raw: Any, result: Any, ctx: ExecutionContext) -> Any:
    """The output of an ASL state whose work was done elsewhere (a Wait's result is its effective
    input)."""
    from airflow_cloudflow.model import Wait

    frame = piecewise_frame(state, raw, ctx)
    try:
        return finish(state.asl, frame, frame.value if isinstance(state, Wait) else result, None)[0]
    except FlowError as exc:
        raise asl_error(exc, state, frame.entered_id) from None
