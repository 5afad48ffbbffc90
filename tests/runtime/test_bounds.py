"""Runaway flows end with a coded error (runtime/bounds.py): state transitions per execution,
sub-flow depth, threads per process, and error text capped at 32,768 characters."""

from __future__ import annotations

import json
import threading
import time

import pytest

from airflow_cloudflow.dialects import load_definition_text
from airflow_cloudflow.exceptions import MAX_ERROR_TEXT, ErrorInfo, FlowError, cap_error_text
from airflow_cloudflow.integrations.mocks import load_mocks
from airflow_cloudflow.integrations.catalogue import default_registry
from airflow_cloudflow.runtime import bounds
from airflow_cloudflow.runtime.clock import FakeClock
from airflow_cloudflow.runtime.interpreter import Interpreter
from tests.runtime.flows import run

SELF_LOOP = """
- Type: Choice
  Name: C
  Branches:
    - Condition: $Input.loop == true
      Next: L
  Default: E
- Type: Pass
  Name: L
  Next: L
- Type: Succeed
  Name: E
"""


def test_pass_looping_on_itself_ends_with_the_transition_bound():
    result = run(SELF_LOOP, {"loop": True})
    assert result.error.code == "FnF.StateTransitionLimitExceeded"
    assert "state transitions per execution (25000)" in result.error.detail
    assert run(SELF_LOOP, {"loop": False}).succeeded


def test_transition_bound_is_a_setting_and_ignores_nonsense(monkeypatch):
    monkeypatch.setenv(bounds.STATE_TRANSITIONS.setting, "10")
    assert bounds.STATE_TRANSITIONS.value == 10
    assert "(10)" in run(SELF_LOOP, {"loop": True}).error.detail
    monkeypatch.setenv(bounds.STATE_TRANSITIONS.setting, "-3")
    assert bounds.STATE_TRANSITIONS.value == 25_000


def test_transition_bound_is_not_caught_by_fnf_all(monkeypatch):
    monkeypatch.setenv(bounds.STATE_TRANSITIONS.setting, "50")
    flow = """
    - Type: Parallel
      Name: Par
      Branches:
        - StartAt: C
          States:
            - Type: Choice
              Name: C
              Branches:
                - Condition: $Input.loop == true
                  Next: L
              Default: E
            - Type: Pass
              Name: L
              Next: L
            - Type: Succeed
              Name: E
      Catch:
        - Errors: [FnF.ALL]
          Next: Caught
      End: true
    - Type: Pass
      Name: Caught
      End: true
    """
    result = run(flow, {"loop": True})
    assert result.error.code == "FnF.StateTransitionLimitExceeded" and result.failed_state == "Par"


def test_retries_count_as_transitions(monkeypatch):
    monkeypatch.setenv(bounds.STATE_TRANSITIONS.setting, "20")
    flow = """
    - Type: Task
      Name: T
      Action: FC:InvokeFunction
      Parameters:
        resourceArn: acs:fc:cn-hangzhou:1:functions/f/LATEST
      Retry:
        - Errors: [FnF.ALL]
          MaxAttempts: 1000
          IntervalSeconds: 0
      End: true
    """
    result = run(flow, {}, mocks={"acs:fc:cn-hangzhou:1:functions/f/LATEST": {"behaviour": "fail", "code": "X"}})
    assert result.error.code == "FnF.StateTransitionLimitExceeded"


def asl(text: dict, name: str = "m.asl.json"):
    return load_definition_text(json.dumps(text), name)


def test_asl_self_loop_fails_with_states_runtime():
    machine = asl({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "NumericEquals": 1, "Next": "L"}], "Default": "E"},
        "L": {"Type": "Pass", "Next": "L"}, "E": {"Type": "Succeed"}}})
    result = Interpreter(machine, integrations=load_mocks({}), clock=FakeClock()).execute({"x": 1})
    assert (result.error.code, result.status) == ("States.Runtime", "Failed")
    assert "state transitions per execution" in result.error.detail


# ---------------------------------------------------------------------- sub-flow depth

SELF_CALL = """Type: StateMachine
Name: selfcall
SpecVersion: v1
StartAt: Call
States:
  - Name: Call
    Type: Task
    Action: FNF:StartExecution
    TaskMode: WaitForSystemCallback
    Parameters:
      resourceArn: acs:fnf:cn-hangzhou::flow/selfcall
      input: {}
    End: true
"""

MAP_SELF_CALL = """Type: StateMachine
Name: mapself
SpecVersion: v1
StartAt: M
States:
  - Name: M
    Type: Map
    ItemsPath: $Input.items
    Processor:
      StartAt: Call
      States:
        - Name: Call
          Type: Task
          Action: FNF:StartExecution
          TaskMode: WaitForSystemCallback
          Parameters:
            resourceArn: acs:fnf:cn-hangzhou::flow/mapself
            input:
              items: [1, 2]
          End: true
    End: true
"""


def run_file(tmp_path, name: str, text: str, data=None):
    (tmp_path / name).write_text(text, encoding="utf-8")
    machine = load_definition_text(text, str(tmp_path / name))
    return Interpreter(machine, integrations=default_registry(flows=[tmp_path])).execute(data or {})


def test_direct_self_call_fails_with_the_depth_bound_not_a_yaml_error(tmp_path):
    result = run_file(tmp_path, "selfcall.flow.yaml", SELF_CALL)
    assert result.error.code == "FnF.SubflowDepthExceeded"
    assert "sub-flow nesting depth (16) exceeded" in result.error.detail


def test_self_call_from_an_inline_map_ends_and_leaves_no_threads(tmp_path):
    before = threading.active_count()
    result = run_file(tmp_path, "mapself.flow.yaml", MAP_SELF_CALL, {"items": [1, 2]})
    assert result.error.code == "FnF.SubflowDepthExceeded"
    # a stopped sibling's in-flight sub-flow call is abandoned in its side thread (runtime/cancellation.py
    # ``interruptible``); that call observes the same cancelled token and ends at its next state
    deadline = time.monotonic() + 10
    while threading.active_count() > before + 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() <= before + 1


def test_depth_bound_is_a_setting(tmp_path, monkeypatch):
    monkeypatch.setenv(bounds.SUBFLOW_DEPTH.setting, "3")
    result = run_file(tmp_path, "selfcall.flow.yaml", SELF_CALL)
    assert "depth 4" in result.error.detail


def test_asl_sync_self_call_cause_stays_within_32768_characters(tmp_path):
    machine = {"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync",
        "Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:1:stateMachine:selfsync", "Input": {}},
        "End": True}}}
    result = run_file(tmp_path, "selfsync.asl.json", json.dumps(machine))
    assert result.error.code == "States.TaskFailed"
    assert len(result.error.detail) == MAX_ERROR_TEXT and result.error.detail.endswith("[truncated]")


# ---------------------------------------------------------------------- error text

def test_error_text_is_capped_where_errors_are_made():
    long = "x" * (MAX_ERROR_TEXT * 3)
    for detail in (FlowError("E", long).detail, ErrorInfo("E", long).detail, cap_error_text(long)):
        assert len(detail) == MAX_ERROR_TEXT and detail.endswith("[truncated]")
    assert FlowError("E", "short").detail == "short" and cap_error_text(None) is None


def test_a_chain_of_sync_sub_flows_does_not_grow_its_cause(tmp_path):
    """Each ``.sync`` level re-escapes the child's Cause; 12 levels used to multiply it."""
    for level in range(12):
        nxt = f"arn:aws:states:us-east-1:1:stateMachine:chain{level + 1}"
        state = ({"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync",
                  "Parameters": {"StateMachineArn": nxt, "Input": {}}, "End": True} if level < 11 else
                 {"Type": "Fail", "Error": "Deep", "Cause": "\"quoted\" " * 3000})
        (tmp_path / f"chain{level}.asl.json").write_text(json.dumps({"StartAt": "S", "States": {"S": state}}))
    machine = load_definition_text((tmp_path / "chain0.asl.json").read_text(), str(tmp_path / "chain0.asl.json"))
    result = Interpreter(machine, integrations=default_registry(flows=[tmp_path])).execute({})
    assert result.error.code == "States.TaskFailed"
    assert len(result.error.detail) <= MAX_ERROR_TEXT


# ---------------------------------------------------------------------- threads

def test_max_concurrency_20000_runs_on_the_thread_budget(monkeypatch):
    monkeypatch.setenv(bounds.THREADS.setting, "32")
    peak = [0]
    lock = threading.Lock()
    release = threading.Event()

    class Slow:
        may_block = staticmethod(lambda action: True)

        def invoke(self, call):
            with lock:
                peak[0] = max(peak[0], threading.active_count())
            release.wait(0.001)
            return {"ok": True}

    flow = """
    - Type: Map
      Name: M
      ItemsPath: $Input.items
      MaxConcurrency: 20000
      Processor:
        StartAt: T
        States:
          - Type: Task
            Name: T
            Action: FC:InvokeFunction
            Parameters:
              resourceArn: acs:fc:cn-hangzhou:1:functions/f/LATEST
            End: true
      End: true
    """
    before = threading.active_count()
    result = run(flow, {"items": list(range(2000))}, integrations=Slow())
    assert result.succeeded and len(result.output["Items"]) == 2000
    assert peak[0] - before <= 32
    assert bounds.THREAD_BUDGET.in_use == 0


def test_thread_budget_grants_what_is_left_and_never_blocks(monkeypatch):
    monkeypatch.setenv(bounds.THREADS.setting, "5")
    budget = bounds.ThreadBudget()
    assert (budget.take(4), budget.take(4), budget.take(4)) == (4, 1, 0)
    budget.give_back(5)
    assert budget.in_use == 0


def test_nested_pools_do_not_deadlock_when_the_budget_is_spent(monkeypatch):
    monkeypatch.setenv(bounds.THREADS.setting, "2")
    flow = """
    - Type: Map
      Name: Outer
      ItemsPath: $Input.rows
      MaxConcurrency: 10
      Processor:
        StartAt: Inner
        States:
          - Type: Map
            Name: Inner
            ItemsPath: $Input
            MaxConcurrency: 10
            Processor:
              StartAt: W
              States:
                - Type: Wait
                  Name: W
                  Seconds: 1
                  End: true
            End: true
      End: true
    """
    result = run(flow, {"rows": [[1, 2, 3]] * 4})
    assert result.succeeded and result.output == {"Items": [{"Items": [1, 2, 3]}] * 4}


@pytest.mark.parametrize("bound", [bounds.STATE_TRANSITIONS, bounds.SUBFLOW_DEPTH, bounds.THREADS])
def test_every_bound_is_documented(bound):
    from tests.conftest import REPO_ROOT

    text = (REPO_ROOT / "docs" / "limits.md").read_text(encoding="utf-8")
    assert bound.name in text and bound.setting in text and f"{bound.default:,}" in text
    for code in (bound.cloudflow_code, bound.asl_code):
        assert code in text
