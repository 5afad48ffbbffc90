"""IntegrationRegistry: Action → runner; unknown actions fail naming them."""

from __future__ import annotations

import pytest

from airflow_cloudflow.exceptions import ErrorCodes, FlowError
from airflow_cloudflow.integrations.registry import IntegrationRegistry
from airflow_cloudflow.runtime.ports import TaskCall, resource_of
from airflow_cloudflow.integrations.catalogue import default_registry


def test_registered_runner_receives_the_call():
    registry = IntegrationRegistry()
    registry.register("A:B", lambda call: {"got": call.parameters, "state": call.state_name})
    assert registry.invoke(TaskCall("A:B", {"x": 1}, state_name="S")) == {"got": {"x": 1}, "state": "S"}
    assert registry.actions() == ("A:B",)


def test_unknown_action_raises_action_not_supported():
    with pytest.raises(FlowError) as err:
        default_registry().invoke(TaskCall("MNS:SendMessage", {}))
    assert err.value.code == ErrorCodes.ACTION_NOT_SUPPORTED
    assert "MNS:SendMessage" in err.value.detail


def test_resource_of():
    assert resource_of("FC:InvokeFunction", {"resourceArn": "arn1"}) == "arn1"
    assert resource_of("x", {"FunctionName": "fn"}) == "fn"
    assert resource_of("arn:aws:states:::lambda:invoke", None) == "arn:aws:states:::lambda:invoke"
    assert resource_of("FC:InvokeFunction", "body") is None
