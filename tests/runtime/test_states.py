"""One behaviour per state type (cloudflow-language §1, §2)."""

from __future__ import annotations

import threading

import pytest

from airflow_cloudflow.exceptions import ErrorCodes
from airflow_cloudflow.expressions.cloudflow import compile_expression
from airflow_cloudflow.integrations.registry import IntegrationRegistry
from airflow_cloudflow.model import Choice, ChoiceBranch, Expression, Pass, StateGraph, StateMachine
from airflow_cloudflow.runtime.clock import FakeClock
from airflow_cloudflow.runtime.interpreter import Interpreter
from tests.runtime.flows import FC, fc_task, run


# ----------------------------------------------------------------- Pass and constructors


def test_pass_forwards_input():
    r = run("- Type: Pass\n  Name: P\n  End: true", {"a": [1, 2]})
    assert r.status == "Succeeded" and r.output == {"a": [1, 2]}


def test_input_constructor_replaces_input_and_sees_raw_input():
    r = run("""
- Type: Pass
  Name: P
  InputConstructor:
    b.$: $Input.a
    fixed: 1
  End: true
""", {"a": 5, "other": True})
    assert r.output == {"b": 5, "fixed": 1}


def test_output_constructor_sees_input_and_output():
    r = run("""
- Type: Pass
  Name: P
  OutputConstructor:
    fromInput.$: $Input.a
    fromOutput.$: $Output.a
  End: true
""", {"a": 1})
    assert r.output == {"fromInput": 1, "fromOutput": 1}


def test_global_constructor_runs_after_output_constructor():
    """"``$Global`` seen in that state's OutputConstructor is the value before"."""
    r = run("""
- Type: Pass
  Name: A
  GlobalConstructor:
    g.$: $Input.v
  OutputConstructor:
    seen.$: $Global.g
  Next: B
- Type: Pass
  Name: B
  InputConstructor:
    later.$: $Global.g
  End: true
""", {"v": 7})
    assert r.output == {"later": 7}


def test_global_constructor_sees_raw_task_output():
    r = run(fc_task("T", end=False, extra="""
OutputConstructor:
  shaped: true
GlobalConstructor:
  raw.$: $Output.Body.x
Next: P
""") + "- Type: Pass\n  Name: P\n  InputConstructor:\n    raw.$: $Global.raw\n  End: true",
            {"x": 3}, mocks={FC: {"behaviour": "identity"}})
    assert r.output == {"raw": 3}


def test_context_current_name_and_execution_input():
    r = run("""
- Type: Pass
  Name: First
  InputConstructor:
    name.$: $Context.Current.Name
    exec.$: $Context.Execution.Input.k
    retry.$: $Context.Current.RetryCount
  End: true
""", {"k": "v"})
    assert r.output == {"name": "First", "exec": "v", "retry": 0}


def test_expression_error_fails_with_runtime_error():
    r = run("""
- Type: Pass
  Name: P
  InputConstructor:
    x.$: length($Input.n)
  End: true
""", {"n": 5})
    assert r.status == "Failed" and r.error.code == ErrorCodes.RUNTIME and r.failed_state == "P"


# ----------------------------------------------------------------- Task


def test_task_output_is_raw_fc_output():
    r = run(fc_task("T"), {"a": 1}, mocks={FC: {"behaviour": "identity"}})
    assert r.output == {"Body": {"a": 1}}


def test_task_output_constructor_reads_body():
    r = run(fc_task("T", extra="OutputConstructor:\n  got.$: $Output.Body.a"), {"a": 2},
            mocks={FC: {"behaviour": "identity"}})
    assert r.output == {"got": 2}


def test_unknown_action_names_it():
    r = run("- Type: Task\n  Name: T\n  Action: Nope:Do\n  End: true")
    assert r.error.code == ErrorCodes.ACTION_NOT_SUPPORTED and "Nope:Do" in r.error.detail


def test_integration_exception_becomes_task_failed():
    def boom(call):
        raise RuntimeError("client broke")

    r = run("- Type: Task\n  Name: T\n  Action: X:Y\n  End: true", integrations=IntegrationRegistry({"X:Y": boom}))
    assert r.error.code == ErrorCodes.TASK_FAILED and "client broke" in r.error.detail


def test_custom_callback_task_token_reaches_parameters_and_the_call():
    """§4.1: "CloudFlow sends a task token (``$Context.Current.TaskToken``) with the request"."""
    calls = []
    r = run("""
- Type: Task
  Name: T
  Action: X:Y
  TaskMode: WaitForCustomCallback
  Parameters:
    token.$: $Context.Current.TaskToken
  End: true
""", integrations=IntegrationRegistry({"X:Y": lambda call: calls.append(call) or {"ok": 1}}))
    assert r.output == {"ok": 1}
    (call,) = calls
    assert call.task_token and call.task_token.startswith("cft-")
    assert call.parameters == {"token": call.task_token}


def test_no_task_token_outside_custom_callback():
    calls = []
    r = run("- Type: Task\n  Name: T\n  Action: X:Y\n  Parameters:\n    t.$: $Context.Current.TaskToken\n  End: true",
            integrations=IntegrationRegistry({"X:Y": lambda call: calls.append(call) or {}}))
    assert r.status == "Succeeded" and calls[0].task_token is None and calls[0].parameters == {"t": None}


def test_task_timeout_stops_waiting():
    release = threading.Event()

    def hang(call):
        release.wait(30)
        return {}

    clock = FakeClock(grace=0.0)
    try:
        r = run("- Type: Task\n  Name: T\n  Action: X:Y\n  Timeout: '3'\n  End: true",
                integrations=IntegrationRegistry({"X:Y": hang}), clock=clock)
    finally:
        release.set()
    assert r.error.code == ErrorCodes.TASK_TIMEOUT
    assert clock.slept == 3


def test_task_timeout_zero_means_no_timeout():
    r = run("- Type: Task\n  Name: T\n  Action: X:Y\n  Timeout: '0'\n  End: true",
            integrations=IntegrationRegistry({"X:Y": lambda call: {"ok": True}}))
    assert r.output == {"ok": True}


def test_task_within_timeout_returns_result():
    r = run("- Type: Task\n  Name: T\n  Action: X:Y\n  Timeout.$: $Input.t\n  End: true", {"t": 60},
            integrations=IntegrationRegistry({"X:Y": lambda call: {"ok": 1}}))
    assert r.output == {"ok": 1}


# ----------------------------------------------------------------- Choice


CHOICE = """
- Type: Choice
  Name: C
  Branches:
    - Condition: $Input.n > 10
      Next: Big
    - Condition: $Input.n > 5
      Next: Medium
  Default: Small
- Type: Pass
  Name: Big
  InputConstructor: {size: big}
  End: true
- Type: Pass
  Name: Medium
  InputConstructor: {size: medium}
  End: true
- Type: Pass
  Name: Small
  InputConstructor: {size: small}
  End: true
"""


@pytest.mark.parametrize("n, size", [(11, "big"), (10, "medium"), (6, "medium"), (5, "small")])
def test_choice_first_true_branch_wins(n, size):
    r = run(CHOICE, {"n": n})
    assert r.output == {"size": size}
    assert r.visited[0] == "C"


def test_choice_without_match_or_default_fails():
    cond = Expression("$Input.x == 1", compile_expression("$Input.x == 1"))
    graph = StateGraph(start_at="C", states=(
        Choice(name="C", branches=(ChoiceBranch(condition=cond, next="P"),)),
        Pass(name="P", end=True),
    ))
    r = Interpreter(StateMachine(name="m", graph=graph)).execute({"x": 2})
    assert r.error.code == ErrorCodes.RUNTIME and r.failed_state == "C"


# ----------------------------------------------------------------- Wait


def test_wait_static_and_dynamic_seconds_use_the_clock():
    clock = FakeClock()
    r = run("""
- Type: Wait
  Name: W1
  Seconds: 2
  Next: W2
- Type: Wait
  Name: W2
  Seconds.$: $Input.s
  End: true
""", {"s": 5}, clock=clock)
    assert r.output == {"s": 5}
    assert clock.sleeps == [2, 5]


def test_wait_rejects_a_negative_duration():
    r = run("- Type: Wait\n  Name: W\n  Seconds.$: $Input.s\n  End: true", {"s": -1})
    assert r.error.code == ErrorCodes.RUNTIME


@pytest.mark.parametrize("seconds", ["nan", "inf", "-inf", "1e400", 1e300, 100_000_000, "abc", True, None])
def test_wait_rejects_non_finite_and_out_of_range_seconds(seconds):
    clock = FakeClock()
    r = run("- Type: Wait\n  Name: W\n  Seconds.$: $Input.s\n  End: true", {"s": seconds}, clock=clock)
    assert r.error.code == ErrorCodes.RUNTIME and r.failed_state == "W"
    assert "between 0 and 99999999" in r.error.detail and clock.sleeps == []


def test_wait_accepts_numeric_strings_up_to_the_bound():
    clock = FakeClock()
    r = run("- Type: Wait\n  Name: W\n  Seconds.$: $Input.s\n  End: true", {"s": " 99999999 "}, clock=clock)
    assert r.error is None and clock.sleeps == [99_999_999]


def test_flow_timeout_during_wait():
    clock = FakeClock()
    r = run("- Type: Wait\n  Name: W\n  Seconds: 100\n  End: true", clock=clock, extra="Timeout: 10\n")
    assert r.error.code == ErrorCodes.TIMEOUT
    assert clock.slept == 10


# ----------------------------------------------------------------- Succeed / Fail


def test_succeed_ends_scope_with_constructed_output():
    r = run("""
- Type: Succeed
  Name: S
  OutputConstructor:
    done.$: $Input.v
""", {"v": 1})
    assert r.output == {"done": 1}


def test_fail_code_detail_and_default_code():
    r = run("- Type: Fail\n  Name: F\n  Code: Biz.X\n  Detail: why")
    assert (r.error.code, r.error.detail, r.failed_state) == ("Biz.X", "why", "F")
    r = run("- Type: Fail\n  Name: F\n  Detail: why")
    assert r.error.code == "FnF.Fail"


# ----------------------------------------------------------------- Parallel


PARALLEL = """
- Type: Parallel
  Name: P
  InputConstructor:
    v.$: $Input.v
  Branches:
    - StartAt: A
      States:
        - Type: Pass
          Name: A
          OutputConstructor:
            a.$: $Input.v
          End: true
    - StartAt: B
      States:
        - Type: Succeed
          Name: B
  OutputConstructor:
    both.$: $Output
  End: true
"""


def test_parallel_outputs_branch_map():
    r = run(PARALLEL, {"v": 4})
    assert r.output == {"both": {"Branch0": {"a": 4}, "Branch1": {"v": 4}}}


def test_fail_in_branch_is_caught_by_parallel_catch():
    r = run("""
- Type: Parallel
  Name: P
  Branches:
    - StartAt: F
      States:
        - Type: Fail
          Name: F
          Code: Inner.Bad
          Detail: d
  Catch:
    - Errors: [Inner.Bad]
      Description: c
      OutputConstructor:
        code.$: $Context.Current.Error.Code
      Next: H
  Next: Done
- Type: Pass
  Name: H
  End: true
- Type: Pass
  Name: Done
  End: true
""")
    assert r.output == {"code": "Inner.Bad"} and r.visited == ("P", "H")


def test_uncaught_branch_failure_fails_parallel():
    r = run("""
- Type: Parallel
  Name: P
  Branches:
    - StartAt: A
      States:
        - Type: Pass
          Name: A
          End: true
    - StartAt: F
      States:
        - Type: Fail
          Name: F
          Code: Inner.Bad
  End: true
""")
    assert r.error.code == "Inner.Bad" and r.failed_state == "P"


POLLING_AND_FAILING = """
- Type: Parallel
  Name: P
  Branches:
    - StartAt: W
      States:
        - Type: Wait
          Name: W
          Seconds: 1
          Next: C
        - Type: Choice
          Name: C
          Branches:
            - Condition: $Input.done == true
              Next: S
          Default: W
        - Type: Succeed
          Name: S
    - StartAt: F
      States:
        - Type: Fail
          Name: F
          Code: Boom
  End: true
"""


def _timed(states_yaml: str, input=None):
    import time

    from airflow_cloudflow.runtime.clock import SystemClock

    started = time.monotonic()
    result = run(states_yaml, input, clock=SystemClock())
    return result, time.monotonic() - started


def test_a_failing_branch_stops_a_polling_sibling_at_once():
    """As Step Functions: an uncaught branch failure stops the other branches (docs/semantics.md)."""
    r, took = _timed(POLLING_AND_FAILING)
    assert (r.error.code, r.failed_state) == ("Boom", "P") and took < 1.5


def test_a_failing_inline_map_iteration_stops_the_waiting_ones():
    r, took = _timed("""
- Type: Map
  Name: M
  ItemsPath: $Input.xs
  Processor:
    StartAt: C
    States:
      - Type: Choice
        Name: C
        Branches:
          - Condition: $Input == 2
            Next: F
        Default: Long
      - Type: Wait
        Name: Long
        Seconds: 60
        End: true
      - Type: Fail
        Name: F
        Code: Boom
  End: true
""", {"xs": [1, 2, 3]})
    assert r.error.code == "Boom" and took < 5


# ----------------------------------------------------------------- inline Map


def test_inline_map_items_in_order():
    r = run("""
- Type: Map
  Name: M
  ItemsPath: $Input.xs
  MaxConcurrency: 2
  Processor:
    StartAt: P
    States:
      - Type: Pass
        Name: P
        OutputConstructor:
          y.$: $Input.x
        End: true
  End: true
""", {"xs": [{"x": 1}, {"x": 2}, {"x": 3}]})
    assert r.output == {"Items": [{"y": 1}, {"y": 2}, {"y": 3}]}


def test_inline_map_items_path_must_be_array():
    r = run("""
- Type: Map
  Name: M
  ItemsPath: $Input.xs
  Processor:
    StartAt: P
    States:
      - Type: Pass
        Name: P
        End: true
  End: true
""", {"xs": {"not": "a list"}})
    assert r.error.code == ErrorCodes.RUNTIME


def test_inline_map_iteration_failure_fails_map_with_its_code():
    r = run("""
- Type: Map
  Name: M
  ItemsPath: $Input.xs
  Processor:
    StartAt: F
    States:
      - Type: Fail
        Name: F
        Code: It.Failed
  End: true
""", {"xs": [1]})
    assert r.error.code == "It.Failed" and r.failed_state == "M"
