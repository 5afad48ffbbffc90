"""Deferred Task calls without Airflow (``planning/deferred.py``): a sub-flow or callback Task
raises ``DeferCall``; once its outcome is recorded, the state runs again and its constructors,
Retry and Catch apply as in the interpreter."""

from __future__ import annotations

import json
import textwrap

import pytest

from airflow_cloudflow.dialects import load_definition_text
from airflow_cloudflow.exceptions import ErrorCodes, FlowError
from airflow_cloudflow.integrations.callbacks import Outcome, TokenStore
from airflow_cloudflow.integrations.mocks import load_mocks
from airflow_cloudflow.integrations.registry import IntegrationRegistry
from airflow_cloudflow.integrations.subflow import ChildOutcome, FlowFinder
from airflow_cloudflow.planning.deferred import (
    CALLBACK, SUBFLOW, DeferCall, DeferredCalls, DeferringIntegrations, PendingCall, callback_outcome,
    callback_timeout, child_conf, child_outcome, deferrable, run_deferrable_step,
)
from airflow_cloudflow.planning.plan import ChildLocator
from airflow_cloudflow.planning.steps import Handoff, new_context
from airflow_cloudflow.runtime.clock import FakeClock
from airflow_cloudflow.runtime.interpreter import Interpreter

CHILD = "Type: StateMachine\nName: kid\nSpecVersion: v1\nStartAt: P\nStates:\n  - Type: Pass\n    Name: P\n    End: true\n"


def machine(states: str, name: str = "parent"):
    text = f"Type: StateMachine\nName: {name}\nSpecVersion: v1\nStartAt: S\nStates:\n" + textwrap.indent(
        textwrap.dedent(states), "  ")
    return load_definition_text(text, f"{name}.flow.yaml")


SUB = """
- Type: Task
  Name: S
  Action: FNF:StartExecution
  TaskMode: {mode}
  Parameters:
    resourceArn: acs:fnf:cn-hangzhou::flow/kid
    executionName.$: $Input.name
    input:
      n.$: $Input.n
  OutputConstructor:
    got.$: $Output
    n.$: $Input.n
  GlobalConstructor:
    seen.$: $Output
{extra}
  Next: Done
- Type: Pass
  Name: Done
  End: true
- Type: Pass
  Name: Caught
  End: true
"""

CATCH = """  Catch:
    - Errors: [FnF.ALL]
      OutputConstructor:
        code.$: $Context.Current.Error.Code
        detail.$: $Context.Current.Error.Detail
      Next: Caught"""

RETRY = """  Retry:
    - Errors: [Child.Broke]
      MaxAttempts: 2
      IntervalSeconds: 7"""


class Base(IntegrationRegistry):
    """Records what reaches the real integrations."""

    def __init__(self):
        super().__init__({"HTTP:Request": self.http})
        self.sent = []

    def http(self, call):
        self.sent.append(call)
        return {"Code": 200}


def step(m, records, *, base=None, tokens=None, clock=None, given=None):
    interp = Interpreter(m, integrations=base or Base(), clock=clock or FakeClock())
    integrations = DeferringIntegrations(interp.integrations, records, locate=lambda name: (f"dag_{name}", "finish"),
                                         tokens=tokens or (lambda: None))
    ctx = new_context(interp, "exec1", {}, {})
    handoff = run_deferrable_step(interp, m.graph["S"], given or Handoff({"name": "child_1", "n": 3}, "S"), ctx,
                                  integrations)
    return handoff


def deferred(m, records, **kw):
    with pytest.raises(DeferCall) as caught:
        step(m, records, **kw)
    return caught.value.call


def test_a_sub_flow_defers_with_the_child_run_to_start():
    m = machine(SUB.format(mode="WaitForSystemCallback", extra=""))
    call = deferred(m, DeferredCalls())
    assert (call.kind, call.state, call.dag_id, call.run_id, call.finish_task) == (SUBFLOW, "S", "dag_kid", "child_1", "finish")
    assert call.conf == {"n": 3} and call.waits_for_child and call.run_states == (("success",), ("failed",))
    assert call.request.flow_name == "kid" and call.request.execution_name == "child_1"


def test_the_child_output_goes_through_the_state_constructors():
    m = machine(SUB.format(mode="WaitForSystemCallback", extra=""))
    records = DeferredCalls().started(deferred(m, DeferredCalls())).answered(ChildOutcome(True, {"child": 1}))
    handoff = step(m, records)
    assert handoff == Handoff({"got": {"child": 1}, "n": 3}, "Done", {"seen": {"child": 1}})


def test_a_failed_child_is_caught_with_its_code_and_detail():
    m = machine(SUB.format(mode="WaitForSystemCallback", extra=CATCH))
    records = DeferredCalls().started(deferred(m, DeferredCalls())).answered(ChildOutcome(False, code="Child.Broke",
                                                                                          detail="bad"))
    assert step(m, records) == Handoff({"code": "Child.Broke", "detail": "bad"}, "Caught", {})


def test_a_failed_child_without_catch_fails_the_state():
    m = machine(SUB.format(mode="WaitForSystemCallback", extra=""))
    records = DeferredCalls().started(deferred(m, DeferredCalls())).answered(ChildOutcome(False, code="X", detail="d"))
    with pytest.raises(FlowError) as err:
        step(m, records)
    assert (err.value.code, err.value.detail, err.value.state) == ("X", "d", "S")


def test_retry_starts_a_new_child_run_and_replay_does_not_sleep_again():
    m = machine(SUB.format(mode="WaitForSystemCallback", extra=RETRY))
    first = deferred(m, DeferredCalls())
    records = DeferredCalls().started(first).answered(ChildOutcome(False, code="Child.Broke"))
    clock = FakeClock()
    second = deferred(m, records, clock=clock)
    assert clock.slept == 7  # the retry interval, served once
    assert second.run_id == "child_1_r1"
    records = records.started(second).answered(ChildOutcome(True, "ok"))
    clock = FakeClock()
    assert step(m, records, clock=clock).output == {"got": "ok", "n": 3}
    assert clock.slept == 0


def test_request_complete_acknowledges_once_the_run_exists():
    m = machine(SUB.format(mode="RequestComplete", extra=""))
    call = deferred(m, DeferredCalls())
    assert not call.waits_for_child and "queued" in call.run_states[0]
    output = step(m, DeferredCalls().started(call).answered(ChildOutcome(True))).output
    assert output["got"] == {"FlowName": "kid", "ExecutionName": "child_1", "RequestID": call.request.request_id}


def test_an_invalid_execution_name_is_a_task_failure():
    m = machine(SUB.format(mode="RequestComplete", extra=CATCH))
    out = step(m, DeferredCalls(), given=Handoff({"name": "1 bad", "n": 1}, "S"))
    assert out.next == "Caught" and out.output["code"] == "FnF.InvalidArgument"


def test_records_round_trip_through_json():
    m = machine(SUB.format(mode="WaitForSystemCallback", extra=""))
    records = DeferredCalls().started(deferred(m, DeferredCalls())).answered(ChildOutcome(False, code="C", detail="D"))
    assert DeferredCalls.from_json(json.loads(json.dumps(records.to_json()))) == records
    assert DeferredCalls.from_json(None) == DeferredCalls()


ASL = {
    "StartAt": "S",
    "States": {
        "S": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
              "Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:1:stateMachine:kid", "Name": "run_a",
                             "Input": {"x.$": "$.x"}},
              "ResultSelector": {"out.$": "$.Output"}, "ResultPath": "$.child", "End": True},
    },
}


def test_an_asl_sync_child_gets_the_asl_output_processing():
    m = load_definition_text(json.dumps(ASL), "parent.asl.json")
    interp = Interpreter(m, integrations=Base(), clock=FakeClock())

    def run(records):
        integrations = DeferringIntegrations(interp.integrations, records, locate=lambda n: ("dag_" + n, "finish"),
                                             tokens=lambda: None)
        return run_deferrable_step(interp, m.graph["S"], Handoff({"x": 5}, "S"), new_context(interp, "e", {}, {}),
                                   integrations)

    with pytest.raises(DeferCall) as caught:
        run(DeferredCalls())
    call = caught.value.call
    assert (call.run_id, call.conf) == ("run_a", {"x": 5})
    handoff = run(DeferredCalls().started(call).answered(ChildOutcome(True, {"y": 6})))
    assert handoff.output == {"x": 5, "child": {"out": {"y": 6}}}


CALLBACK_FLOW = """
- Type: Task
  Name: S
  Action: HTTP:Request
  TaskMode: WaitForCustomCallback
  Timeout: '30'
  Parameters:
    url: http://example.invalid/
    body:
      token.$: $Context.Current.TaskToken
  OutputConstructor:
    answer.$: $Output
{extra}
  Next: Done
- Type: Pass
  Name: Done
  End: true
- Type: Pass
  Name: Caught
  End: true
"""


def test_a_callback_task_sends_its_token_then_defers(tmp_path):
    m = machine(CALLBACK_FLOW.format(extra=""))
    base, store = Base(), TokenStore.local(tmp_path)
    call = deferred(m, DeferredCalls(), base=base, tokens=lambda: store)
    (sent,) = base.sent
    assert call.kind == CALLBACK and call.token == sent.task_token == sent.parameters["body"]["token"]
    assert call.max_seconds == 30 and store.outcome(call.token) is None  # recorded as pending

    store.complete(call.token, Outcome(True, {"approved": True}))
    outcome = callback_outcome(lambda: store.outcome(call.token), call)
    handoff = step(m, DeferredCalls().started(call).answered(outcome), base=base, tokens=lambda: store)
    assert handoff.output == {"answer": {"approved": True}} and len(base.sent) == 1  # not sent again


def test_a_failed_or_missing_callback(tmp_path):
    m = machine(CALLBACK_FLOW.format(extra=CATCH))
    store = TokenStore.local(tmp_path)
    call = deferred(m, DeferredCalls(), tokens=lambda: store)
    assert callback_outcome(lambda: store.outcome(call.token), call).code == ErrorCodes.TASK_TIMEOUT
    store.complete(call.token, Outcome(False, error="Rejected", cause="no"))
    outcome = callback_outcome(lambda: store.outcome(call.token), call)
    handoff = step(m, DeferredCalls().started(call).answered(outcome), tokens=lambda: store)
    assert handoff == Handoff({"code": "Rejected", "detail": "no"}, "Caught", {})
    assert callback_outcome(lambda: store.outcome("cft-unknown-token"), call).code == ErrorCodes.TASK_FAILED


def test_a_mocked_call_is_not_deferred():
    m = machine(SUB.format(mode="WaitForSystemCallback", extra=""))
    mocks = load_mocks({"acs:fnf:cn-hangzhou::flow/kid": {"behaviour": "constant", "value": {"m": 1}}},
                       fallback=Base())
    assert step(m, DeferredCalls(), base=mocks).output == {"got": {"m": 1}, "n": 3}


def test_which_states_defer_and_their_callback_timeout():
    m = machine(SUB.format(mode="RequestComplete", extra=""))
    assert deferrable(m.graph["S"]) and not deferrable(m.graph["S"], subflow_runs=False)
    assert not deferrable(m.graph["Done"])
    cb = machine(CALLBACK_FLOW.format(extra=""))
    assert deferrable(cb.graph["S"], subflow_runs=False) and callback_timeout(cb.graph["S"]) == 30
    assert callback_timeout(m.graph["S"]) == 604800.0


def test_child_conf_and_outcome():
    assert child_conf({"a": 1}) == {"a": 1} and child_conf([1]) == {"$input": [1]}
    assert child_outcome("success", {"o": 1}, None, dag_id="d", run_id="r") == ChildOutcome(True, {"o": 1})
    assert child_outcome("failed", None, {"Code": "C", "Detail": "D"}, dag_id="d", run_id="r") == ChildOutcome(
        False, code="C", detail="D")
    lost = child_outcome("failed", None, None, dag_id="d", run_id="r")
    assert lost.code == ErrorCodes.TASK_FAILED and "'r'" in lost.detail


def test_the_child_locator_plans_the_found_flow(tmp_path):
    (tmp_path / "kid.flow.yaml").write_text(CHILD)
    assert ChildLocator(FlowFinder([tmp_path]))("kid") == ("kid", "finish")


ASL_TOKEN = {"StartAt": "S", "States": {"S": {
    "Type": "Task", "Resource": "arn:aws:states:::http:invoke.waitForTaskToken", "HeartbeatSeconds": 60,
    "TimeoutSeconds": 600, "Parameters": {"ApiEndpoint": "https://example.test", "Method": "POST",
                                          "RequestBody": {"token.$": "$$.Task.Token"}},
    "Catch": [{"ErrorEquals": ["States.HeartbeatTimeout"], "ResultPath": "$.late", "Next": "Late"}],
    "End": True}, "Late": {"Type": "Pass", "End": True}}}


class AslBase(IntegrationRegistry):
    def __init__(self):
        super().__init__({"arn:aws:states:::http:invoke": self.http})
        self.sent = []

    def http(self, call):
        self.sent.append(call)
        return {"StatusCode": 200}


def test_an_asl_wait_for_task_token_task_defers_like_a_custom_callback(tmp_path):
    """Under Airflow the token is sent, the task defers on it, and the answer is replayed into the state."""
    m = load_definition_text(json.dumps(ASL_TOKEN), "parent.asl.json")
    assert deferrable(m.graph["S"])  # planned as a deferrable task
    base, store = AslBase(), TokenStore.local(tmp_path)
    call = deferred(m, DeferredCalls(), base=base, tokens=lambda: store, given=Handoff({"n": 1}, "S"))
    (sent,) = base.sent
    assert call.kind == CALLBACK and call.token == sent.task_token == sent.parameters["RequestBody"]["token"]
    assert (call.max_seconds, call.heartbeat_seconds) == (600, 60)
    assert PendingCall.from_json(call.to_json()) == call

    store.complete(call.token, Outcome(True, {"ok": True}))
    answered = DeferredCalls().started(call).answered(callback_outcome(lambda: store.outcome(call.token), call))
    assert step(m, answered, base=base, tokens=lambda: store, given=Handoff({"n": 1}, "S")).output == {"ok": True}


def test_a_missed_heartbeat_under_airflow_is_a_heartbeat_timeout_a_catch_can_route(tmp_path):
    m = load_definition_text(json.dumps(ASL_TOKEN), "parent.asl.json")
    store = TokenStore.local(tmp_path)
    call = deferred(m, DeferredCalls(), base=AslBase(), tokens=lambda: store, given=Handoff({"n": 1}, "S"))
    outcome = callback_outcome(lambda: store.outcome(call.token), call, lambda: True)
    assert outcome.code == "States.HeartbeatTimeout"
    handoff = step(m, DeferredCalls().started(call).answered(outcome), base=AslBase(), tokens=lambda: store,
                   given=Handoff({"n": 1}, "S"))
    assert handoff.next == "Late" and handoff.output["late"]["Error"] == "States.HeartbeatTimeout"
    timed_out = callback_outcome(lambda: None, call)
    with pytest.raises(FlowError) as err:
        step(m, DeferredCalls().started(call).answered(timed_out), base=AslBase(), tokens=lambda: store,
             given=Handoff({"n": 1}, "S"))
    assert err.value.code == "States.Timeout"
