"""The flow schema agrees with ``airflow-cloudflow lint``: generated from its key tables, and every
value the schema refuses for a field is refused by the validator too (so an editor never marks a
flow that lint accepts)."""

from __future__ import annotations

import json

import pytest

from airflow_cloudflow.dialects import cloudflow as fdl
from airflow_cloudflow.dialects import lint_text
from airflow_cloudflow.editor_schemas import generate
from tests.editor_schemas.support import refused, validator, with_value

SCHEMA = generate("flow")
DONE = {"Name": "Done", "Type": "Succeed"}
PROCESSOR = {"StartAt": "P", "States": [{"Name": "P", "Type": "Pass", "End": True}]}
STATES = {
    "Pass": {"End": True},
    "Task": {"Action": "FC:InvokeFunction", "End": True, "Retry": [{"Errors": ["FnF.ALL"], "MaxAttempts": 1,
                                                                     "IntervalSeconds": 1}],
             "Catch": [{"Errors": ["FnF.ALL"], "Next": "Done"}]},
    "Choice": {"Branches": [{"Condition": "$Input.a == 1", "Next": "Done"}], "Default": "Done"},
    "Parallel": {"Branches": [PROCESSOR], "End": True},
    "Map": {"ProcessorConfig": {"ExecutionMode": "Express"}, "Processor": PROCESSOR, "End": True,
            "ItemReader": {"SourceType": "OSS_CSV", "SourceParameters": {"Bucket": "b", "ObjectName": "o.csv"},
                           "ReaderConfig": {"CSVHeaders": ["a"]}},
            "ItemBatcher": {"MaxItemsPerBatch": 2}, "ResultWriter": {"Parameters": {"Bucket": "b"}}},
    "Wait": {"Seconds": 1, "End": True},
    "Succeed": {},
    "Fail": {"Code": "E"},
}


def flow(kind: str) -> dict:
    state = {"Name": "S", "Type": kind, **STATES[kind]}
    return {"Type": "StateMachine", "Name": "x", "SpecVersion": "v1", "StartAt": "S", "States": [state, DONE]}


def lint_errors(document: dict) -> list:
    _, issues = lint_text(json.dumps(document), "x.flow.yaml")
    return [i for i in issues if i.is_error]


def test_the_states_and_their_fields_come_from_the_validators_tables():
    assert SCHEMA["$defs"]["state"]["properties"]["Type"]["enum"] == list(fdl.STATE_KEYS)
    for kind, keys in fdl.STATE_KEYS.items():
        definition = SCHEMA["$defs"][f"state.{kind}"]
        assert list(definition["properties"]) == list(keys)
        assert definition["additionalProperties"] is False
    assert list(SCHEMA["properties"]) == list(fdl.TOP_KEYS)
    assert list(SCHEMA["$defs"]["retry"]["properties"]) == list(fdl.RETRY_KEYS)


@pytest.mark.parametrize("kind", list(STATES))
def test_the_base_flows_are_valid_for_both(kind):
    assert lint_errors(flow(kind)) == []
    assert validator("flow").is_valid(flow(kind))


def _fields():
    for kind, keys in fdl.STATE_KEYS.items():
        for key in keys:
            if key != "Type":
                yield kind, key


@pytest.mark.parametrize(("kind", "key"), list(_fields()))
def test_a_value_the_schema_refuses_is_refused_by_the_validator(kind, key):
    field_schema = SCHEMA["$defs"][f"state.{kind}"]["properties"][key]
    checked = 0
    for value in refused(field_schema, SCHEMA):
        document = with_value(flow(kind), ("States", 0, key), value)
        if key == "Next":
            document["States"][0].pop("End", None)
        assert not validator("flow").is_valid(document)
        assert lint_errors(document), f"{kind}.{key} = {value!r}: the schema refuses it, lint accepts it"
        checked += 1
    assert checked, f"{kind}.{key}: the schema accepts every candidate"


def test_an_unknown_field_is_refused_by_both():
    document = with_value(flow("Task"), ("States", 0, "Actoin"), "FC:InvokeFunction")
    assert not validator("flow").is_valid(document)
    assert [i.code for i in lint_errors(document)] == ["CF-E112"]


def test_source_parameters_follow_the_source_type():
    document = flow("Map")
    del document["States"][0]["ItemReader"]["SourceParameters"]["ObjectName"]
    assert not validator("flow").is_valid(document)
    assert "CF-E306" in [i.code for i in lint_errors(document)]
    document["States"][0]["ItemReader"]["SourceParameters"]["ObjectName.$"] = "$Input.key"
    assert validator("flow").is_valid(document)
    assert lint_errors(document) == []
