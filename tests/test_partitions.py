"""AWS partitions (partitions.py): aws-cn and aws-us-gov resources work like aws ones."""

from __future__ import annotations

import json

import pytest

from airflow_cloudflow.dialects import lint_text, load_definition_text
from airflow_cloudflow.integrations.mocks import load_mocks
from airflow_cloudflow.partitions import canonical, partition_of, waits_for_token
from airflow_cloudflow.integrations.registry import IntegrationRegistry
from airflow_cloudflow.runtime.ports import TaskCall
from airflow_cloudflow.runtime.clock import FakeClock
from airflow_cloudflow.runtime.interpreter import Interpreter


@pytest.mark.parametrize("written, expected", [
    ("arn:aws-cn:states:::lambda:invoke", "arn:aws:states:::lambda:invoke"),
    ("arn:aws-us-gov:states:::sqs:sendMessage.waitForTaskToken", "arn:aws:states:::sqs:sendMessage"),
    ("arn:aws-cn:lambda:cn-north-1:123456789012:function:f", "arn:aws:lambda:cn-north-1:123456789012:function:f"),
    ("arn:aws:states:::dynamodb:putItem", "arn:aws:states:::dynamodb:putItem"),
    ("FC:InvokeFunction", "FC:InvokeFunction"),
    ("arn:aws-iso:states:::lambda:invoke", "arn:aws-iso:states:::lambda:invoke"),  # not a partition we serve
])
def test_canonical(written, expected):
    assert canonical(written) == expected


def test_partition_of_and_waits_for_token():
    assert partition_of("arn:aws-cn:states:::lambda:invoke") == "aws-cn"
    assert partition_of("arn:aws:states:::lambda:invoke") == partition_of(None) == "aws"
    assert waits_for_token("arn:aws-cn:states:::lambda:invoke.waitForTaskToken")
    assert not waits_for_token("arn:aws:states:::lambda:invoke")


def test_the_registry_serves_another_partition_with_the_aws_runner_and_passes_the_resource_as_written():
    seen = []
    registry = IntegrationRegistry()
    registry.register_prefix("arn:aws:lambda:", lambda call: seen.append(call.action) or "done")
    call = TaskCall("arn:aws-us-gov:lambda:us-gov-west-1:1:function:f", {})
    assert registry.invoke(call) == "done" and seen == ["arn:aws-us-gov:lambda:us-gov-west-1:1:function:f"]


def _run(definition: dict, mocks: dict, value):
    machine = load_definition_text(json.dumps(definition), "m.asl.json")
    return Interpreter(machine, integrations=load_mocks(mocks), clock=FakeClock()).execute(value)


@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov"])
def test_a_machine_in_any_partition_runs_mocked(partition):
    definition = {"StartAt": "Invoke", "States": {
        "Invoke": {"Type": "Task", "Resource": f"arn:{partition}:states:::lambda:invoke",
                   "Parameters": {"FunctionName": f"arn:{partition}:lambda:r:123456789012:function:score",
                                  "Payload.$": "$"}, "ResultSelector": {"score.$": "$.Payload.n"}, "Next": "Save"},
        "Save": {"Type": "Task", "Resource": f"arn:{partition}:states:::dynamodb:putItem",
                 "Parameters": {"TableName": "scores", "Item": {"n": {"N.$": "States.Format('{}', $.score)"}}},
                 "End": True}}}
    mocks = {"score": {"behaviour": "identity"},
             "arn:aws:states:::dynamodb:putItem": {"behaviour": "identity"}}  # keyed by the aws form
    result = _run(definition, mocks, {"n": 4})
    assert result.succeeded, result.error
    assert result.output == {"TableName": "scores", "Item": {"n": {"N": "4"}}}


def test_identity_returns_the_parameters_of_any_asl_integration():
    definition = {"StartAt": "Sdk", "States": {
        "Sdk": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:listStateMachines",
                "Parameters": {"MaxResults": 3}, "End": True}}}
    assert _run(definition, {"arn:aws:states:::aws-sdk:sfn:listStateMachines": {"behaviour": "identity"}},
                {}).output == {"MaxResults": 3}


def test_a_distributed_map_reads_and_writes_through_s3_in_another_partition(tmp_path):
    definition = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemReader": {"Resource": "arn:aws-cn:states:::s3:getObject",
                                      "ReaderConfig": {"InputType": "JSON"},
                                      "Parameters": {"Bucket": "data", "Key": "k.json"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                          "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        "ResultWriter": {"Resource": "arn:aws-cn:states:::s3:putObject", "Parameters": {"Bucket": "data"}},
        "End": True}}}
    assert [i for i in lint_text(json.dumps(definition), "m.asl.json")[1] if i.is_error] == []
    from airflow_cloudflow.storage.resolver import StoreResolver

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "k.json").write_text(json.dumps([{"id": 1}, {"id": 2}]))
    machine = load_definition_text(json.dumps(definition), "m.asl.json")
    result = Interpreter(machine, integrations=load_mocks({}), clock=FakeClock(),
                         stores=StoreResolver.local(tmp_path)).execute({})
    assert result.succeeded, result.error
    manifest = json.loads((tmp_path / "data" / result.output["ResultWriterDetails"]["Key"]).read_text())
    records = json.loads((tmp_path / "data" / manifest["ResultFiles"]["SUCCEEDED"][0]["Key"]).read_text())
    assert sorted(json.loads(r["Output"])["id"] for r in records) == [1, 2]
    assert all(":express:" in r["ExecutionArn"] for r in records)  # ExecutionType EXPRESS
