"""The ASL schema agrees with ``airflow-cloudflow lint`` for both query languages: its states and
fields are the validator's key tables, and a value the schema refuses is refused by lint too."""

from __future__ import annotations

import json

import pytest

from airflow_cloudflow.dialects.asl import builder as asl
from airflow_cloudflow.dialects import lint_text
from airflow_cloudflow.editor_schemas import generate
from tests.editor_schemas.support import refused, validator, with_value

SCHEMA = generate("asl")
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:f"
PROCESSOR = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
DISTRIBUTED = {**PROCESSOR, "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}}
STATES = {
    "Pass": {"End": True},
    "Task": {"Resource": LAMBDA, "End": True, "Retry": [{"ErrorEquals": ["States.ALL"]}],
             "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}]},
    "Choice": {"Default": "Done"},
    "Parallel": {"Branches": [PROCESSOR], "End": True},
    "Map": {"ItemProcessor": DISTRIBUTED, "End": True, "Label": "L",
            "ItemBatcher": {"MaxItemsPerBatch": 2},
            "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "WriterConfig": {}}},
    "Wait": {"Seconds": 1, "End": True},
    "Succeed": {},
    "Fail": {"Error": "E"},
}
RULES = {"JSONPath": {"Variable": "$.a", "NumericEquals": 1, "Next": "Done"},
         "JSONata": {"Condition": "{% $states.input.a = 1 %}", "Next": "Done"}}
READERS = {"JSONPath": {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "b", "Key": "k"},
                        "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}},
           "JSONata": {"Resource": "arn:aws:states:::s3:getObject", "Arguments": {"Bucket": "b", "Key": "k"},
                       "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}}}


def machine(kind: str, language: str) -> dict:
    state = {"Type": kind, **STATES[kind]}
    if kind == "Choice":
        state["Choices"] = [RULES[language]]
    if kind == "Map":
        state["ItemReader"] = READERS[language]
    return {"QueryLanguage": language, "StartAt": "S", "States": {"S": state, "Done": {"Type": "Succeed"}}}


def lint_errors(document: dict) -> list:
    _, issues = lint_text(json.dumps(document), "x.asl.json")
    return [i for i in issues if i.is_error]


def test_the_states_and_their_fields_come_from_the_validators_tables():
    for language, table in (("JSONPath", asl.JSONPATH_KEYS), ("JSONata", asl.JSONATA_KEYS)):
        for kind, keys in table.items():
            definition = SCHEMA["$defs"][f"state.{language}.{kind}"]
            assert list(definition["properties"]) == list(keys)
            assert definition["additionalProperties"] is False
    assert list(SCHEMA["properties"]) == list(asl.TOP_KEYS)


@pytest.mark.parametrize("language", ["JSONPath", "JSONata"])
@pytest.mark.parametrize("kind", list(STATES))
def test_the_base_machines_are_valid_for_both(kind, language):
    assert lint_errors(machine(kind, language)) == []
    assert validator("asl").is_valid(machine(kind, language))


def _fields():
    for language, table in (("JSONPath", asl.JSONPATH_KEYS), ("JSONata", asl.JSONATA_KEYS)):
        for kind, keys in table.items():
            for key in keys:
                if key not in ("Type", "QueryLanguage"):
                    yield language, kind, key


@pytest.mark.parametrize(("language", "kind", "key"), list(_fields()))
def test_a_value_the_schema_refuses_is_refused_by_the_validator(language, kind, key):
    field_schema = SCHEMA["$defs"][f"state.{language}.{kind}"]["properties"][key]
    for value in refused(field_schema, SCHEMA):
        document = with_value(machine(kind, language), ("States", "S", key), value)
        if key == "Next":
            document["States"]["S"].pop("End", None)
        assert not validator("asl").is_valid(document)
        assert lint_errors(document), f"{language} {kind}.{key} = {value!r}: the schema refuses it, lint accepts it"


def test_a_jsonpath_field_in_a_jsonata_machine_is_refused_by_both():
    document = with_value(machine("Pass", "JSONata"), ("States", "S", "InputPath"), "$.a")
    assert not validator("asl").is_valid(document)
    assert "CF-E112" in [i.code for i in lint_errors(document)]


def test_a_state_may_switch_a_jsonpath_machine_to_jsonata():
    document = machine("Pass", "JSONPath")
    document["States"]["S"].update({"QueryLanguage": "JSONata", "Output": "{% $states.input %}"})
    assert lint_errors(document) == []
    assert validator("asl").is_valid(document)
    document["States"]["S"]["ResultPath"] = "$.x"  # a JSONPath field, refused once the state is JSONata
    assert not validator("asl").is_valid(document)
    assert lint_errors(document)
