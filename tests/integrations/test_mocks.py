"""Fake functions, exactly as the conformance README defines them."""

from __future__ import annotations

import json

import pytest

from airflow_cloudflow.exceptions import ErrorCodes, FlowError
from airflow_cloudflow.integrations.mocks import load_mocks
from airflow_cloudflow.runtime.ports import TaskCall

ARN = "acs:fc:cn-hangzhou:1:functions/f/LATEST"


def call(body=..., arn=ARN, action="FC:InvokeFunction"):
    params = {"resourceArn": arn, "invocationType": "Sync"}
    if body is not ...:
        params["body"] = body
    return TaskCall(action, params, state_name="T")


def test_identity_returns_body_wrapped_for_fc():
    mocks = load_mocks({ARN: {"behaviour": "identity"}})
    assert mocks.invoke(call({"a": 1})) == {"Body": {"a": 1}}
    assert mocks.invoke(call("plain")) == {"Body": "plain"}
    assert mocks.invoke(call()) == {"Body": None}


def test_constant_ignores_body():
    mocks = load_mocks({ARN: {"behaviour": "constant", "value": [1, 2]}})
    assert mocks.invoke(call({"x": 1})) == {"Body": [1, 2]}


def test_fail_raises_code_and_detail_every_time():
    mocks = load_mocks({ARN: {"behaviour": "fail", "code": "FC.X", "detail": "d"}})
    for _ in range(2):
        with pytest.raises(FlowError) as err:
            mocks.invoke(call({}))
        assert (err.value.code, err.value.detail) == ("FC.X", "d")
    assert mocks.calls == {ARN: 2}


def test_fail_first_n_then_identity():
    mocks = load_mocks({ARN: {"behaviour": "fail_first_n", "n": 2, "code": "C"}})
    outcomes = []
    for i in range(4):
        try:
            outcomes.append(mocks.invoke(call(i)))
        except FlowError as err:
            outcomes.append(err.code)
    assert outcomes == ["C", "C", {"Body": 2}, {"Body": 3}]
    assert mocks.calls == {ARN: 4}


def test_non_fc_action_returns_the_value_itself():
    mocks = load_mocks({"fn": {"behaviour": "constant", "value": 5}})
    assert mocks.invoke(TaskCall("Lambda:Invoke", {"FunctionName": "fn"})) == 5


def test_unmocked_resource_falls_back_to_registry():
    mocks = load_mocks({ARN: {"behaviour": "identity"}})
    with pytest.raises(FlowError) as err:
        mocks.invoke(call({}, arn="other", action="MNS:SendMessage"))
    assert err.value.code == ErrorCodes.ACTION_NOT_SUPPORTED


@pytest.mark.parametrize("spec", [
    {"behaviour": "teleport"}, {"behaviour": "constant"}, {"behaviour": "fail"},
    {"behaviour": "fail_first_n", "code": "C"}, "identity",
])
def test_invalid_specs_are_rejected(spec):
    with pytest.raises(ValueError):
        load_mocks({ARN: spec})


def test_load_from_file(tmp_path):
    path = tmp_path / "mocks.json"
    path.write_text(json.dumps({ARN: {"behaviour": "identity"}}))
    assert load_mocks(path).invoke(call(1)) == {"Body": 1}
    assert load_mocks(str(path)).invoke(call(2)) == {"Body": 2}
