"""The ASL front-end: one model for JSON and YAML, names from the file stem, ASL fields in typed
records, and the codes not covered by ``tests/invalid_asl``."""

from __future__ import annotations

import json

import pytest

from airflow_cloudflow.dialects import DIALECTS, dialect_for, lint_text, load_definition_text
from airflow_cloudflow.dialects.asl.builder import machine_name
from airflow_cloudflow.model import AslIO, Choice, Expression, Literal, Map, Task, Wait

MACHINE = {
    "Comment": "orders", "TimeoutSeconds": 60, "StartAt": "Get",
    "States": {
        "Get": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "f", "Payload.$": "$"}, "ResultSelector": {"p.$": "$.Payload"},
                "ResultPath": "$.r", "OutputPath": "$.r", "TimeoutSecondsPath": "$.t",
                "Retry": [{"ErrorEquals": ["States.ALL"], "MaxDelaySeconds": 5, "JitterStrategy": "FULL"}],
                "Next": "Pick"},
        "Pick": {"Type": "Choice", "Choices": [{"Variable": "$.p", "IsPresent": True, "Next": "Fan"}],
                 "Default": "Fan"},
        "Fan": {"Type": "Map", "ItemsPath": "$.items", "Label": "fan", "MaxConcurrencyPath": "$.c",
                "ToleratedFailurePercentage": 5,
                "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                               "ReaderConfig": {"InputType": "CSV", "MaxItemsPath": "$.n"},
                               "Parameters": {"Bucket": "b", "Key.$": "$.key"}},
                "ItemBatcher": {"MaxItemsPerBatch": 10},
                "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                                  "StartAt": "W", "States": {"W": {"Type": "Wait", "Timestamp": "2024-01-01T00:00:00Z",
                                                                   "End": True}}},
                "End": True},
    },
}


def test_registered_and_named_after_the_file():
    assert "asl" in DIALECTS and dialect_for("x/orders.asl.json") == dialect_for("o.asl.yaml") == "asl"
    assert machine_name("dags/orders.asl.json") == "orders"
    assert machine_name("orders.asl.yaml") == "orders"


def test_json_and_yaml_build_the_same_model():
    import yaml

    a = load_definition_text(json.dumps(MACHINE, indent=2), "orders.asl.json")
    b = load_definition_text(yaml.safe_dump(MACHINE, sort_keys=False), "orders.asl.yaml")
    assert a.graph == b.graph and a.name == b.name == "orders" and a.dialect == "asl"
    assert a.timeout_seconds == 60 and a.description == "orders"


def test_fields_land_in_typed_records():
    m = load_definition_text(json.dumps(MACHINE, indent=2), "orders.asl.json")
    task = m.graph["Get"]
    assert isinstance(task, Task) and task.action == "arn:aws:states:::lambda:invoke"
    assert isinstance(task.asl, AslIO) and task.asl.query_language == "JSONPath"
    assert isinstance(task.asl.result_path, Expression) and task.asl.result_path.source == "$.r"
    assert task.parameters is task.asl.parameters and isinstance(task.timeout, Expression)
    rule = task.retry[0]
    assert (rule.max_attempts, rule.interval_seconds, rule.backoff_rate) == (3, 1, 2.0)  # ASL defaults
    assert (rule.max_backoff_seconds, rule.jitter_strategy) == (5, "FULL")
    choice = m.graph["Pick"]
    assert isinstance(choice, Choice) and choice.branches[0].condition.compiled.evaluate({"input": {"p": 1}})
    fan = m.graph["Fan"]
    assert isinstance(fan, Map) and fan.distributed and fan.execution_mode == "EXPRESS"
    assert fan.asl_map.label == "fan" and fan.asl_map.max_concurrency.kind == "path"
    assert fan.asl_map.tolerated_failure_percentage.template == Literal(5)
    assert fan.item_reader.resource.endswith("getObject") and fan.item_reader.max_items.field == "MaxItemsPath"
    assert fan.item_batcher.max_items_per_batch_value.template == Literal(10)
    wait = fan.processor["W"]
    assert isinstance(wait, Wait) and wait.timestamp == Literal("2024-01-01T00:00:00Z")


def test_jsonata_state_fields():
    doc = {"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {
        "Type": "Pass", "Output": {"x": "{% $states.input.a %}"}, "Assign": {"v": 1}, "End": True}}}
    m = load_definition_text(json.dumps(doc), "j.asl.json")
    io = m.graph["P"].asl
    assert io.jsonata and io.output is not None and io.assign == Literal({"v": 1})


def _codes(doc, name="x.asl.json"):
    return {i.code for i in lint_text(json.dumps(doc, indent=2), name)[1] if i.is_error}


@pytest.mark.parametrize("doc, code", [
    ({"QueryLanguage": "XPath", "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, "ASL-E301"),
    ({"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {"Type": "Pass", "QueryLanguage": "JSONPath",
                                                                  "End": True}}}, "ASL-E301"),
    ({"QueryLanguage": "JSONata", "StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:lambda:r:a:function:f", "TimeoutSecondsPath": "$.t", "End": True}}},
     "CF-E112"),
    ({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:r:a:function:f",
                                       "TimeoutSeconds": -1, "End": True}}}, "ASL-E304"),
    ({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:r:a:function:f",
                                       "Retry": [{"ErrorEquals": []}], "End": True}}}, "ASL-E305"),
    ({"StartAt": "P" * 81, "States": {"P" * 81: {"Type": "Pass", "End": True}}}, "ASL-E309"),
    ({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [], "Default": "D"},
                                 "D": {"Type": "Succeed"}}}, "ASL-E311"),
    ({"StartAt": "W", "States": {"W": {"Type": "Wait", "Timestamp": "yesterday", "End": True}}}, "ASL-E320"),
])
def test_codes_outside_the_invalid_corpus(doc, code):
    assert code in _codes(doc)


def test_jsonata_path_field_is_asl_e302():
    doc = {"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": {
        "Type": "Map", "MaxConcurrencyPath": "$.n",
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, "End": True}}}
    issues = lint_text(json.dumps(doc), "x.asl.json")[1]
    assert "CF-E112" in {i.code for i in issues}


def test_reader_and_writer_resources_are_checked():
    proc = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "P",
            "States": {"P": {"Type": "Pass", "End": True}}}
    doc = {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemProcessor": proc, "End": True,
                                            "ItemReader": {"Resource": "arn:aws:states:::s3:getThing",
                                                           "Parameters": {}},
                                            "ResultWriter": {}}}}
    codes = _codes(doc)
    assert {"ASL-E315", "ASL-E317"} <= codes


def test_no_jsonata_import_for_cloudflow_or_jsonpath(tmp_path):
    import subprocess
    import sys

    code = ("import json, sys; from airflow_cloudflow.dialects import load_definition_text; "
            "load_definition_text(json.dumps({'StartAt':'P','States':{'P':{'Type':'Pass','End':True}}}), 'a.asl.json'); "
            "print('jsonata' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
