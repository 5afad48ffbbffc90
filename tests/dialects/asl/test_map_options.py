"""ReaderConfig / WriterConfig lint rules (``dialects/asl/map_options.py``): what the run would not
do as AWS documents it is an error at lint time."""

from __future__ import annotations

import json

import pytest

from airflow_cloudflow.dialects import lint_text
from airflow_cloudflow import extras


def _map(reader: dict | None = None, writer: dict | None = None) -> str:
    state = {"Type": "Map", "End": True, "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}}
    if reader is not None:
        state["ItemReader"] = reader
    if writer is not None:
        state["ResultWriter"] = writer
    return json.dumps({"StartAt": "M", "States": {"M": state}}, indent=2)


def _codes(text: str) -> list[str]:
    return [i.code for i in lint_text(text, "m.asl.json")[1] if i.is_error]


GET = {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "b", "Key": "k"}}
LIST = {"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Bucket": "b", "Prefix": "p/"}}


@pytest.mark.parametrize(
    "reader",
    [
        GET,  # no ReaderConfig: JSON
        {**GET, "ReaderConfig": {"InputType": "JSON", "ItemsPointer": "/a/b"}},
        {**GET, "ReaderConfig": {"ItemsPointer": "/a"}},
        {**GET, "ReaderConfig": {"InputType": "PARQUET", "MaxItems": 10}},
        {**GET, "ReaderConfig": {"ManifestType": "S3_INVENTORY"}},
        {**LIST, "ReaderConfig": {"InputType": "JSONL", "Transformation": "LOAD_AND_FLATTEN", "MaxItems": 5}},
        {**LIST, "ReaderConfig": {"InputType": "PARQUET", "Transformation": "LOAD_AND_FLATTEN"}},
    ],
)
def test_documented_reader_configs_lint_clean(reader):
    assert _codes(_map(reader)) == []


@pytest.mark.parametrize(
    "config, resource",
    [
        ({"InputType": "XML"}, GET),
        ({"InputType": "CSV", "Transformation": "LOAD_AND_FLATTEN"}, GET),
        ({"Transformation": "LOAD_AND_FLATTEN"}, LIST),
        ({"InputType": "MANIFEST", "Transformation": "LOAD_AND_FLATTEN"}, LIST),
        ({"Transformation": "EXPLODE"}, LIST),
        ({"ItemsPointer": "a/b"}, GET),
        ({"ManifestType": "S3_INVENTORY", "InputType": "CSV"}, GET),
        ({"ManifestType": "DELTA"}, GET),
    ],
)
def test_what_aws_does_not_accept_is_asl_e330(config, resource):
    assert _codes(_map({**resource, "ReaderConfig": config})) == ["ASL-E330"]


def test_parquet_without_pyarrow_is_asl_e331_saying_what_to_install(monkeypatch):
    monkeypatch.setattr(extras, "parquet_available", lambda: False)
    issues = lint_text(_map({**GET, "ReaderConfig": {"InputType": "PARQUET"}}), "m.asl.json")[1]
    assert [(i.code, i.message) for i in issues] == [("ASL-E331", extras.PARQUET_HINT)]


@pytest.mark.parametrize("config", [{"OutputType": "JSONL", "Transformation": "FLATTEN"}, {"Transformation": "NONE"},
                                    {"OutputType": "JSON", "Transformation": "COMPACT"}])
def test_documented_writer_configs_lint_clean(config):
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b", "Prefix": "o"}, "WriterConfig": config}
    assert _codes(_map(writer=writer)) == []
    assert _codes(_map(writer={"WriterConfig": config})) == []


def test_unknown_writer_config_key_is_a_typo():
    assert _codes(_map(writer={"WriterConfig": {"OutputTyp": "JSON"}})) == ["CF-E112"]
