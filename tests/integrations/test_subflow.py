"""FNF:StartExecution and states:startExecution run the child in-process, found by flow name."""

from __future__ import annotations

import json

import pytest

from airflow_cloudflow.dialects import load_definition_text
from airflow_cloudflow.runtime.ports import TaskCall
from airflow_cloudflow.integrations.catalogue import default_registry
from airflow_cloudflow.integrations.subflow import FLOW_NOT_FOUND, FLOWS_ENV
from airflow_cloudflow.exceptions import FlowError
from airflow_cloudflow.runtime.interpreter import Interpreter

CHILD = """Type: StateMachine
Name: child-flow
SpecVersion: v1
StartAt: Decide
States:
  - Type: Choice
    Name: Decide
    Branches:
      - Condition: $Input.fail == true
        Next: Boom
    Default: Done
  - Type: Pass
    Name: Done
    InputConstructor:
      doubled.$: $Input.n
    End: true
  - Type: Fail
    Name: Boom
    Code: Child.Failed
    Detail: asked to fail
"""


def parent(mode: str) -> str:
    return f"""Type: StateMachine
Name: parent
SpecVersion: v1
StartAt: Sub
States:
  - Type: Task
    Name: Sub
    Action: FNF:StartExecution
    TaskMode: {mode}
    Parameters:
      resourceArn: acs:fnf:cn-hangzhou::flow/child-flow
      executionName: sub-1
      input:
        n.$: $Input.n
        fail.$: $Input.fail
    End: true
"""


@pytest.fixture()
def flows(tmp_path):
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "child.flow.yaml").write_text(CHILD)
    (tmp_path / "broken.flow.yaml").write_text("not: [valid")
    return tmp_path


def run(mode, data, flows):
    machine = load_definition_text(parent(mode))
    return Interpreter(machine, integrations=default_registry(flows=flows)).execute(data)


def test_wait_for_system_callback_returns_child_output(flows):
    result = run("WaitForSystemCallback", {"n": 21, "fail": False}, flows)
    assert result.succeeded and result.output == {"doubled": 21}


def test_wait_for_system_callback_fails_with_child_error(flows):
    result = run("WaitForSystemCallback", {"n": 1, "fail": True}, flows)
    assert result.error.code == "Child.Failed" and result.error.detail == "asked to fail"


def test_request_complete_returns_acknowledgement(flows):
    result = run("RequestComplete", {"n": 1, "fail": True}, flows)
    assert result.succeeded
    assert result.output["FlowName"] == "child-flow" and result.output["ExecutionName"] == "sub-1"
    assert result.output["RequestID"]


def test_unknown_flow_names_it_and_the_folders(flows, monkeypatch):
    monkeypatch.setenv(FLOWS_ENV, str(flows))
    with pytest.raises(FlowError) as err:
        default_registry().invoke(TaskCall("FNF:StartExecution", {"resourceArn": "acs:fnf:r::flow/ghost"}))
    assert err.value.code == FLOW_NOT_FOUND and "ghost" in err.value.detail and str(flows) in err.value.detail


def test_flows_dir_from_environment(flows, monkeypatch):
    monkeypatch.setenv(FLOWS_ENV, str(flows))
    out = default_registry().invoke(TaskCall("FNF:StartExecution", {
        "resourceArn": "acs:fnf:r::flow/child-flow", "input": {"n": 2, "fail": False}}, task_mode="WaitForSystemCallback"))
    assert out == {"doubled": 2}


def test_states_start_execution_sync_forms(flows):
    reg = default_registry(flows=flows)
    arn = "arn:aws:states:us-east-1:123:stateMachine:child-flow"
    out = reg.invoke(TaskCall("arn:aws:states:::states:startExecution.sync", {"StateMachineArn": arn, "Input": {"n": 3, "fail": False}}))
    assert out["Status"] == "SUCCEEDED" and json.loads(out["Output"]) == {"doubled": 3}
    out = reg.invoke(TaskCall("arn:aws:states:::states:startExecution.sync:2", {"StateMachineArn": arn, "Input": '{"n": 1, "fail": false}'}))
    assert out["Output"] == {"doubled": 1}
    out = reg.invoke(TaskCall("arn:aws:states:::states:startExecution", {"StateMachineArn": arn, "Name": "e1", "Input": {"n": 0, "fail": False}}))
    assert out["ExecutionArn"] == "arn:aws:states:us-east-1:123:execution:child-flow:e1"
    with pytest.raises(FlowError) as err:
        reg.invoke(TaskCall("arn:aws:states:::states:startExecution.sync", {"StateMachineArn": arn, "Input": {"n": 0, "fail": True}}))
    assert err.value.code == "States.TaskFailed" and json.loads(err.value.detail)["Error"] == "Child.Failed"
