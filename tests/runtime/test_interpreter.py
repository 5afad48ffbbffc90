"""The interpreter's public surface: execute, run_state, the piecewise helpers, visited states."""

from __future__ import annotations

import pytest

from airflow_cloudflow.exceptions import FlowError
from airflow_cloudflow.runtime.interpreter import ExecutionResult, StepResult
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
    value = interp.state_input(state, {"x": 5}, ctx)
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
