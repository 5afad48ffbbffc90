"""Task calls the Airflow engine waits for outside the worker slot, without Airflow.

Two kinds of top-level Task state are not run to completion inside their Airflow task:

* a **sub-flow** (``FNF:StartExecution``; ``arn:aws:states:::states:startExecution[.sync[:2]]``)
  becomes a real DAG run of the child flow's DAG (cloudflow-language §4.4: "Output
  (RequestComplete): ``{"FlowName", "ExecutionName", "RequestID"}``. It does not wait for the
  child"; "WaitForSystemCallback: waits for the child to finish");
* a ``WaitForCustomCallback`` Task (§4.1: "CloudFlow sends a task token … The flow pauses until
  someone calls ``ReportTaskSucceeded(TaskToken, Output)`` or ``ReportTaskFailed(TaskToken, Error,
  Cause)``. The reported output becomes ``$Output``") sends its request, then waits on a trigger.

How: the state runs through ``Interpreter.run_state`` as usual, with its integrations wrapped by
``DeferringIntegrations``. The first such call raises ``DeferCall`` (a ``BaseException``, so neither
the Task handler nor Retry/Catch swallow it) carrying a ``PendingCall``; the operator records it
(``DeferredCalls``, an XCom) and waits (a triggered DAG run, or the callback trigger). Once the wait
is over, the operator records the call's ``outcome`` and runs the state **again from its raw
input**: recorded calls are answered from the record, in order, so InputConstructor, Parameters,
OutputConstructor, GlobalConstructor, ASL ResultSelector/ResultPath, Retry and Catch all apply
exactly as in the interpreter. A Retry after a failed outcome makes a new call, which defers again
(a new child run, a new token), up to the rule's MaxAttempts; retry delays already served are not
slept again when the state is replayed (``ReplayClock``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

from ..exceptions import ErrorCodes, FlowError
from ..integrations.callbacks import HEARTBEAT_TIMEOUT, MAX_WAIT_SECONDS, CallbackError, Outcome
from ..runtime.ports import new_task_token
from ..runtime.ports import TaskCall
from ..integrations.subflow import ChildOutcome, SubflowRequest, is_subflow, subflow_output, subflow_request
from ..model import Literal, State, Task
from ..runtime.context import ExecutionContext, new_execution_name, valid_execution_name
from ..runtime.interpreter import Interpreter
from .steps import Handoff

SUBFLOW = "subflow"
CALLBACK = "callback"
CUSTOM_CALLBACK = "WaitForCustomCallback"
INPUT_KEY = "$input"
"""A child run's conf carries a non-object input as ``{"$input": value}`` (as ``providers.runtime`` reads it)."""

RUN_STATES = ("queued", "running", "success", "failed")
SUCCESS, FAILED = "success", "failed"


@dataclass(frozen=True)
class PendingCall:
    """A call the state waits for: a child DAG run (``SUBFLOW``) or a task token (``CALLBACK``)."""

    kind: str
    state: str
    request: SubflowRequest | None = None
    dag_id: str | None = None
    run_id: str | None = None
    finish_task: str | None = None
    conf: dict[str, Any] | None = None
    token: str | None = None
    max_seconds: float | None = None
    heartbeat_seconds: float | None = None  # ASL HeartbeatSeconds of a .waitForTaskToken Task

    @property
    def waits_for_child(self) -> bool:
        """A sub-flow whose Task needs the child's outcome (``WaitForSystemCallback``, ``.sync``)."""
        return self.request is not None and self.request.wait

    @property
    def run_states(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(states that end the wait well, states that end it badly) of the child DAG run: not
        waiting for the child, the wait ends as soon as the run exists (it is then acknowledged)."""
        if self.waits_for_child:
            return (SUCCESS,), (FAILED,)
        return RUN_STATES, ()

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "state": self.state, "request": self.request.to_json() if self.request else None,
                "dag_id": self.dag_id, "run_id": self.run_id, "finish_task": self.finish_task, "conf": self.conf,
                "token": self.token, "max_seconds": self.max_seconds, "heartbeat_seconds": self.heartbeat_seconds}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "PendingCall":
        request = data.get("request")
        return cls(data["kind"], data["state"], SubflowRequest.from_json(request) if request else None,
                   data.get("dag_id"), data.get("run_id"), data.get("finish_task"), data.get("conf"),
                   data.get("token"), data.get("max_seconds"), data.get("heartbeat_seconds"))


@dataclass(frozen=True)
class CallRecord:
    """One deferred call and, once the wait is over, its outcome."""

    call: PendingCall
    outcome: ChildOutcome | None = None

    def to_json(self) -> dict[str, Any]:
        outcome = None if self.outcome is None else {
            "succeeded": self.outcome.succeeded, "output": self.outcome.output,
            "code": self.outcome.code, "detail": self.outcome.detail}
        return {"call": self.call.to_json(), "outcome": outcome}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "CallRecord":
        outcome = data.get("outcome")
        return cls(PendingCall.from_json(data["call"]), None if outcome is None else ChildOutcome(
            bool(outcome["succeeded"]), outcome.get("output"), outcome.get("code"), outcome.get("detail")))


@dataclass(frozen=True)
class DeferredCalls:
    """Every deferred call of one state's attempts, in order (the operator keeps it in XCom)."""

    calls: tuple[CallRecord, ...] = ()

    @property
    def waiting(self) -> PendingCall | None:
        """The call being waited for (the last one, while it has no outcome)."""
        if self.calls and self.calls[-1].outcome is None:
            return self.calls[-1].call
        return None

    def started(self, call: PendingCall) -> "DeferredCalls":
        return DeferredCalls(self.calls + (CallRecord(call),))

    def answered(self, outcome: ChildOutcome) -> "DeferredCalls":
        if self.waiting is None:
            raise FlowError(ErrorCodes.RUNTIME, "no deferred call is waiting for an outcome")
        return DeferredCalls(self.calls[:-1] + (replace(self.calls[-1], outcome=outcome),))

    def to_json(self) -> dict[str, Any]:
        return {"calls": [c.to_json() for c in self.calls]}

    @classmethod
    def from_json(cls, data: Any) -> "DeferredCalls":
        if not isinstance(data, dict):
            return cls()
        return cls(tuple(CallRecord.from_json(c) for c in data.get("calls") or ()))


class DeferCall(BaseException):
    """Raised out of ``Interpreter.run_state`` when a call must be waited for outside the task.

    A ``BaseException`` (like Airflow's ``TaskDeferred``): the Task handler turns ``Exception``\\s
    into ``FnF.TaskFailed`` and Retry/Catch handle ``FlowError`` only; this must reach the operator.
    """

    def __init__(self, call: PendingCall):
        super().__init__(call.kind, call.state)
        self.call = call


def deferrable(state: State, *, subflow_runs: bool = True) -> bool:
    """Whether a top-level state's task may defer: a Task in ``WaitForCustomCallback`` mode, or a
    sub-flow Task when sub-flows are real DAG runs (``subflow_runs``)."""
    if not isinstance(state, Task):
        return False
    return state.task_mode == CUSTOM_CALLBACK or (subflow_runs and is_subflow(state.action))


def callback_timeout(state: State) -> float:
    """How long a callback is waited for: a literal Task ``Timeout`` (seconds, ``0`` = none), else
    7 days, "the Task Timeout maximum". (A computed ``Timeout.$`` is not known before the call.)"""
    template = getattr(state, "timeout", None)
    if isinstance(template, Literal):
        try:
            seconds = float(template.value)
        except (TypeError, ValueError):
            return MAX_WAIT_SECONDS
        if seconds > 0:
            return min(seconds, MAX_WAIT_SECONDS)
    return MAX_WAIT_SECONDS


def child_conf(value: Any) -> dict[str, Any]:
    """A child run's conf: its input object, or ``{"$input": value}`` for any other JSON value."""
    return value if isinstance(value, dict) and list(value) != [INPUT_KEY] else {INPUT_KEY: value}


def child_outcome(run_state: str | None, output: Any, error: Any, *, dag_id: str, run_id: str) -> ChildOutcome:
    """How a child DAG run ended, from its state and its ``finish`` task's XComs (``return_value``,
    ``cloudflow_error`` ``{"Code", "Detail"}``)."""
    if run_state == SUCCESS:
        return ChildOutcome(True, output)
    if isinstance(error, dict) and error.get("Code"):
        return ChildOutcome(False, code=str(error["Code"]), detail=error.get("Detail"))
    return ChildOutcome(False, code=ErrorCodes.TASK_FAILED,
                        detail=f"the DAG run {run_id!r} of {dag_id!r} ended {run_state or 'in an unknown state'}")


def callback_outcome(read: Callable[[], Outcome | None], call: PendingCall,
                     heartbeat_missed: Callable[[], bool] = lambda: False) -> ChildOutcome:
    """What a token reported (``read``: the token store's ``outcome(token)``); still pending once the
    wait is over means the Task timed out, or missed its heartbeat (``heartbeat_missed``)."""
    try:
        found = read()
    except CallbackError as exc:
        return ChildOutcome(False, code=ErrorCodes.TASK_FAILED, detail=str(exc))
    if found is None and heartbeat_missed():
        return ChildOutcome(False, code=HEARTBEAT_TIMEOUT,
                            detail=f"no heartbeat for task token {call.token} within {call.heartbeat_seconds or 0:g}s")
    if found is None:
        return ChildOutcome(False, code=ErrorCodes.TASK_TIMEOUT,
                            detail=f"no callback for task token {call.token} within {call.max_seconds or 0:g}s")
    if found.succeeded:
        return ChildOutcome(True, found.output)
    return ChildOutcome(False, code=found.error or ErrorCodes.TASK_FAILED, detail=found.cause)


def _announce_nothing(token: str, call: TaskCall) -> None:
    return None


class DeferringIntegrations:
    """The run's integrations for one top-level Task state: recorded calls are answered from
    ``records`` in order; the next deferrable call raises ``DeferCall``; every other call (and a
    call a mock answers) goes to ``base``.

    * ``locate(flow_name) -> (dag_id, finish task id)`` of the child flow's DAG;
    * ``tokens()`` the ``TokenStore`` the callback trigger polls; ``announce(token, call)`` tells
      the log how to complete it; ``timeout`` how long a callback is waited for (default: the
      state's ``callback_timeout``, set by ``run_deferrable_step``).
    """

    def __init__(self, base: Any, records: DeferredCalls, *, locate: Callable[[str], tuple[str, str]],
                 tokens: Callable[[], Any], announce: Callable[[str, TaskCall], None] = _announce_nothing,
                 subflow_runs: bool = True, timeout: float | None = None):
        self.base = base
        self.records = records
        self.locate = locate
        self.tokens = tokens
        self.announce = announce
        self.subflow_runs = subflow_runs
        self.timeout = timeout
        self.seen = 0

    @property
    def replaying(self) -> bool:
        """Whether recorded calls remain to be answered (retry delays before them were served)."""
        return self.seen < len(self.records.calls)

    def __getattr__(self, name: str) -> Any:  # may_block, actions… of the wrapped registry
        return getattr(self.base, name)

    def defers(self, call: TaskCall) -> bool:
        answers = getattr(self.base, "answers", None)
        if answers is not None and answers(call):
            return False
        return call.task_mode == CUSTOM_CALLBACK or (self.subflow_runs and is_subflow(call.action))

    def invoke(self, call: TaskCall) -> Any:
        if not self.defers(call):
            return self.base.invoke(call)
        index, self.seen = self.seen, self.seen + 1
        if index < len(self.records.calls):
            return answer(self.records.calls[index], call)
        raise DeferCall(self._start(call, index))

    def _start(self, call: TaskCall, index: int) -> PendingCall:
        if call.task_mode == CUSTOM_CALLBACK:
            token = call.task_token or new_task_token(call.execution_name, call.state_name)
            call = replace(call, task_token=token)
            self.tokens().open_token(token, call)
            self.announce(token, call)
            send = getattr(self.base, "send", None) or self.base.invoke
            send(call)  # the request's own response is not the Task's output
            return PendingCall(CALLBACK, call.state_name, token=token, max_seconds=self.timeout or MAX_WAIT_SECONDS,
                               heartbeat_seconds=call.heartbeat_seconds)
        request = subflow_request(call, new_name=new_execution_name)
        if not valid_execution_name(request.execution_name):
            raise FlowError("FnF.InvalidArgument", f"execution name {request.execution_name!r} must be 1-128 "
                            "characters of [A-Za-z0-9_-] starting with a letter or _", state=call.state_name or None)
        if index:  # a retry: a new child run (run ids are unique per DAG)
            request = replace(request, execution_name=f"{request.execution_name[:120]}_r{index}")
        dag_id, finish = self.locate(request.flow_name)
        return PendingCall(SUBFLOW, call.state_name, request=request, dag_id=dag_id,
                           run_id=request.execution_name, finish_task=finish, conf=child_conf(request.input))


def answer(record: CallRecord, call: TaskCall) -> Any:
    """A recorded call's ``$Output``, or its failure raised as the Task's ``FlowError``."""
    outcome = record.outcome
    if outcome is None:
        raise FlowError(ErrorCodes.RUNTIME, f"the deferred call of {record.call.state!r} has no outcome yet",
                        state=call.state_name or None)
    if record.call.kind == SUBFLOW:
        return subflow_output(record.call.request, outcome, call.state_name or None)  # type: ignore[arg-type]
    if outcome.succeeded:
        return outcome.output
    raise FlowError(outcome.code or ErrorCodes.TASK_FAILED, outcome.detail, state=call.state_name or None)


class ReplayClock:
    """The run's clock, except that sleeps (retry delays) are skipped while recorded calls remain:
    they were served before those calls were made."""

    def __init__(self, base: Any, replaying: Callable[[], bool]):
        self.base = base
        self.replaying = replaying

    def now(self):
        return self.base.now()

    def sleep(self, seconds: float) -> None:
        if not self.replaying():
            self.base.sleep(seconds)

    def wait(self, event, timeout: float) -> bool:
        return self.base.wait(event, timeout)


def run_deferrable_step(interpreter: Interpreter, state: State, given: Handoff, ctx: ExecutionContext,
                        integrations: DeferringIntegrations) -> Handoff:
    """The state with its Retry/Catch (``run_state``) over ``integrations``; raises ``DeferCall``
    when a call must be waited for, ``FlowError`` when the state fails uncaught."""
    if integrations.timeout is None:
        integrations.timeout = callback_timeout(state)
    clock = ReplayClock(interpreter.clock, lambda: integrations.replaying)
    twin = Interpreter(interpreter.machine, integrations=integrations, stores=interpreter.stores, clock=clock)
    ctx.clock = clock
    step = twin.run_state(state, given.output, ctx)
    return Handoff(step.output, step.next, ctx.globals)
