"""The runtime's ports: what an interpreter given no integrations answers, the task token, TaskCall."""

from __future__ import annotations

import re

import pytest

from airflow_cloudflow.exceptions import ErrorCodes, FlowError
from airflow_cloudflow.runtime.interpreter import Interpreter
from airflow_cloudflow.runtime.ports import NoIntegrations, TaskCall, new_task_token
from tests.runtime.flows import fc_task, machine


def test_an_interpreter_without_integrations_fails_a_task_naming_its_action():
    result = Interpreter(machine(fc_task("T"))).execute({})
    assert result.error.code == ErrorCodes.ACTION_NOT_SUPPORTED
    assert "FC:InvokeFunction" in result.error.detail and result.failed_state == "T"


def test_no_integrations_refuses_every_call_and_may_block():
    with pytest.raises(FlowError) as err:
        NoIntegrations().invoke(TaskCall("X:Y", {}, state_name="S"))
    assert (err.value.code, err.value.state) == (ErrorCodes.ACTION_NOT_SUPPORTED, "S")
    assert NoIntegrations().may_block("X:Y") is True


def test_task_tokens_are_fresh_and_key_safe():
    tokens = {new_task_token("e", "s") for _ in range(100)}
    assert len(tokens) == 100
    assert all(re.fullmatch(r"cft-[0-9a-f]{48}", t) for t in tokens)


def test_a_call_names_its_resource():
    assert TaskCall("FC:InvokeFunction", {"resourceArn": "acs:fc:x"}).resource == "acs:fc:x"
    assert TaskCall("arn:aws:states:::lambda:invoke", {"FunctionName": "f"}).resource == "f"
    assert TaskCall("arn:aws:lambda:us-east-1:1:function:f", None).resource == "arn:aws:lambda:us-east-1:1:function:f"
    assert TaskCall("HTTP:Invoke", {}).resource is None
