"""The interpreter's public surface: execute, run_state, the piecewise helpers, visited states."""

from __future__ import annotations

import pytest

from airflow_cloudflow.exceptions import FlowError
from airflow_cloudflow.runtime.interpreter import ExecutionResult
from airflow_cloudflow.runtime.records import StepResult
from tests.runtime.flows import interpreter

FLOW = """
- Type: Pass
  Name: A
  InputConstructor:
    v.$: $Input.x
  OutputConstructor:
    w.$: $Output.v
  GlobalConstructor:
    g.$: $Input.v
  Next: B
- Type: Fail
  Name: B
  Code: Stop
  Detail: here
"""


def test_execute_reports_visited_and_failed_state():
    result = interpreter(FLOW).execute({"x": 1}, execution_name="run_1")
    assert result == ExecutionResult("Failed", None, result.error, "B", ("A", "B"))
    assert result.error.as_dict() == {"Code": "Stop", "Detail": "here"}
    assert result.as_json() == {"status": "Failed", "output": None, "error": {"Code": "Stop", "Detail": "here"}}


def test_execution_name_is_visible_in_context():
    interp = interpreter("- Type: Pass\n  Name: P\n  InputConstructor:\n    n.$: $Context.Execution.Name\n  End: true")
    assert interp.execute({}, execution_name="my_run").output == {"n": "my_run"}
    assert interp.execute({}).output["n"].startswith("exec-")


def test_run_state_returns_step_and_raises_uncaught():
    interp = interpreter(FLOW)
    ctx = interp.new_context({"x": 1})
    graph = interp.machine.graph
    assert interp.run_state(graph["A"], {"x": 2}, ctx) == StepResult({"w": 2}, "B")
    assert ctx.globals == {"g": 2}
    with pytest.raises(FlowError) as err:
        interp.run_state(graph["B"], {}, ctx)
    assert (err.value.code, err.value.state) == ("Stop", "B")


def test_piecewise_helpers_match_run_state():
    interp = interpreter(FLOW)
    ctx = interp.new_context({})
    state = interp.machine.graph["A"]
    value = interp.construct_input(state, {"x": 5}, ctx)
    assert value == {"v": 5}
    assert interp.finish_state(state, value, value, ctx) == {"w": 5}
    assert ctx.globals == {"g": 5}


def test_catch_helper():
    interp = interpreter("""
- Type: Task
  Name: T
  Action: X:Y
  Catch:
    - Errors: [E1]
      Description: c
      Next: H
  Next: H
- Type: Pass
  Name: H
  End: true
""")
    ctx = interp.new_context({})
    state = interp.machine.graph["T"]
    assert interp.catch(state, {}, FlowError("E1", "d"), ctx) == StepResult({"Code": "E1", "Detail": "d"}, "H")
    assert interp.catch(state, {}, FlowError("E2"), ctx) is None


def test_wait_seconds_helper():
    interp = interpreter("- Type: Wait\n  Name: W\n  Seconds.$: $Input.s\n  End: true")
    ctx = interp.new_context({})
    assert interp.wait_seconds(interp.machine.graph["W"], {"s": 4}, ctx) == 4


def test_using_replaces_the_distributed_runner():
    interp = interpreter("""
- Type: Map
  Name: M
  ProcessorConfig:
    ExecutionMode: Express
  ItemsPath: $Input.xs
  Processor:
    StartAt: P
    States:
      - Type: Pass
        Name: P
        End: true
  OutputConstructor:
    got.$: $Output
  End: true
""")
    calls = []

    def runner(interp_, state, map_input, ctx, retry_count=0):
        calls.append(map_input)
        return {"from": "elsewhere"}

    twin = interp.using(distributed_runner=runner)
    assert twin.execute({"xs": [1]}).output == {"got": {"from": "elsewhere"}}
    assert calls == [{"xs": [1]}]
    assert interp.execute({"xs": [1]}).output == {"got": {"Items": [1]}}


def test_distributed_runner_defaults_to_none():
    """None means the dialect's own in-process runner (fanout / asl_map ``run_distributed``)."""
    assert interpreter(FLOW).distributed_runner is None
