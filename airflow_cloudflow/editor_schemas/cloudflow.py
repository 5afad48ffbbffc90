"""The editor schema of CloudFlow flows (``*.flow.yaml``), generated from the tables the validator
uses: the key tables of ``dialects.cloudflow`` (which fields exist where), the enums and limits of
``validation.catalogue`` and ``model.SOURCE_TYPES``. What no table holds — the shape the builder's
getter asks for (``r.string``, ``r.integer``…) — is ``FIELD_TYPES`` below; a test feeds every field
a wrong-typed value and checks that the validator and this schema both refuse it.
"""

from __future__ import annotations

from ..validation import catalogue as cat
from ..dialects import cloudflow as fdl
from ..model import SOURCE_TYPES
from .common import (
    BOOLEAN, DRAFT, OBJECT, STRING, TEXT, Schema, array, closed, enum, integer, number, ref, switch,
)

CONSTRUCTOR: Schema = {
    "type": "object",
    "patternProperties": {r"\.\$$": {"type": "string", "description": "an expression"}},
    "description": "a constructor: values are literals; a key ending in .$ holds an expression",
}
EXPRESSION: Schema = {"type": "string", "minLength": 1, "description": "an expression"}
NUMERIC_STRING: Schema = {"type": "string", "pattern": r"^\s*-?[0-9]+\s*$"}


def _retry() -> Schema:
    low, high = 0, cat.MAX_RETRY_INTERVAL
    return closed(fdl.RETRY_KEYS, {
        "Errors": array(STRING, min_items=1), "Description": STRING, "MaxAttempts": integer(0),
        "IntervalSeconds": number(low, high), "BackoffRate": {"type": "number", "exclusiveMinimum": 0},
        "MaxBackoffSeconds": number(low, high),
    }, required=("Errors", "MaxAttempts", "IntervalSeconds"), what="a Retry rule")


def _catch() -> Schema:
    return closed(fdl.CATCH_KEYS, {"Errors": array(STRING, min_items=1), "Description": STRING, "Next": TEXT,
                                   "OutputConstructor": CONSTRUCTOR},
                  required=("Errors", "Next"), what="a Catch rule")


def _graph() -> Schema:
    return closed(fdl.GRAPH_KEYS, {"StartAt": TEXT, "States": ref("states")}, required=fdl.GRAPH_KEYS)


def _source_parameters() -> Schema:
    """``SourceParameters`` per SourceType (``validation.catalogue.SOURCE_PARAMETERS``); each key may
    also be written ``<key>.$``."""
    cases = {}
    for source_type, (required, optional) in cat.SOURCE_PARAMETERS.items():
        keys = tuple(dict.fromkeys(required + optional + ("Bucket", "ObjectName", "Prefix")))
        allowed = {k: STRING for k in keys} | {k + ".$": STRING for k in keys}
        then: Schema = {"properties": {"SourceParameters": {
            "type": "object", "properties": allowed, "additionalProperties": False,
            "allOf": [{"anyOf": [{"required": [k]}, {"required": [k + ".$"]}]} for k in required],
        }}}
        cases[source_type] = then
    return cases


def _reader() -> Schema:
    schema = closed(fdl.READER_KEYS, {
        "SourceType": enum(SOURCE_TYPES), "SourceParameters": OBJECT,
        "ReaderConfig": closed(fdl.READER_CONFIG_KEYS, {
            "CSVHeaders": {"anyOf": [STRING, array(STRING)]}}),
    }, required=("SourceType",), what="ItemReader")
    schema["allOf"] = switch("SourceType", _source_parameters())
    return schema


def _result_writer() -> Schema:
    keys = sum(cat.RESULT_WRITER_PARAMETERS, ())
    required = cat.RESULT_WRITER_PARAMETERS[0]
    parameters = {"type": "object", "properties": {k: STRING for k in keys} | {k + ".$": STRING for k in keys},
                  "additionalProperties": False,
                  "allOf": [{"anyOf": [{"required": [k]}, {"required": [k + ".$"]}]} for k in required]}
    return closed(fdl.WRITER_KEYS, {"Parameters": parameters}, required=("Parameters",), what="ResultWriter")


def field_types() -> dict[str, dict[str, Schema]]:
    """State Type → field → schema (the shape the builder reads each field with)."""
    wait_low, wait_high = cat.WAIT_SECONDS
    task_low, task_high = cat.TASK_TIMEOUT
    shared: dict[str, Schema] = {
        "Type": STRING, "Name": TEXT, "Description": STRING, "InputConstructor": CONSTRUCTOR,
        "OutputConstructor": CONSTRUCTOR, "GlobalConstructor": CONSTRUCTOR, "Next": TEXT, "End": BOOLEAN,
        "Retry": array(ref("retry")), "Catch": array(ref("catch")),
    }
    per_type: dict[str, dict[str, Schema]] = {
        "Task": {"Action": {"type": "string", "pattern": "^[^:]+:.+$"}, "TaskMode": enum(cat.TASK_MODES),
                 "Parameters": CONSTRUCTOR, "Timeout": {"anyOf": [integer(task_low, task_high), NUMERIC_STRING]},
                 "Timeout.$": EXPRESSION},
        "Choice": {"Branches": array(closed(fdl.CHOICE_BRANCH_KEYS, {"Condition": EXPRESSION, "Next": TEXT},
                                            required=fdl.CHOICE_BRANCH_KEYS), min_items=1),
                   "Default": TEXT},
        "Parallel": {"Branches": array(ref("graph"), min_items=1, max_items=cat.MAX_PARALLEL_BRANCHES)},
        "Map": {"ItemsPath": EXPRESSION, "Processor": ref("graph"),
                "ProcessorConfig": closed(fdl.PROCESSOR_CONFIG_KEYS, {"ExecutionMode": enum(cat.EXECUTION_MODES)},
                                          required=fdl.PROCESSOR_CONFIG_KEYS),
                "ItemReader": _reader(), "ItemConstructor": CONSTRUCTOR,
                "ItemBatcher": closed(fdl.BATCHER_KEYS, {"MaxItemsPerBatch": integer(1),
                                                         "MaxInputBytesPerBatch": integer(1),
                                                         "BatchInput": CONSTRUCTOR}),
                "ResultWriter": _result_writer(), "MaxConcurrency": integer(0),
                "MaxConcuccency": {**integer(0), "deprecated": True,
                                   "description": "the docs' misspelling of MaxConcurrency (accepted)"},
                "MaxItems": integer(0), "ToleratedFailurePercentage": number(0, 100),
                "ToleratedFailureCount": integer(0)},
        "Wait": {"Seconds": integer(wait_low, wait_high), "Seconds.$": EXPRESSION},
        "Fail": {"Code": TEXT, "Detail": TEXT},
    }
    return {kind: shared | per_type.get(kind, {}) for kind in fdl.STATE_KEYS}


REQUIRED = {"Task": ("Action",), "Choice": ("Branches", "Default"), "Parallel": ("Branches",), "Map": ("Processor",)}
"""Required fields beyond Name and Type (CF-E111, CF-E301, CF-E302, CF-E313)."""


def generate() -> Schema:
    types = field_types()
    states = {}
    for kind, keys in fdl.STATE_KEYS.items():
        schema = closed(keys, types[kind], required=("Name", "Type") + REQUIRED.get(kind, ()), what=f"a {kind} state")
        schema["properties"]["Type"] = {"const": kind}
        if kind == "Wait":
            schema["oneOf"] = [{"required": ["Seconds"]}, {"required": ["Seconds.$"]}]
        if kind == "Map":  # CF-E304
            schema["anyOf"] = [{"required": ["ItemsPath"]}, {"required": ["ItemReader"]}]
        if kind == "Task":
            schema["not"] = {"required": ["Timeout", "Timeout.$"]}
        states[kind] = schema
    top = closed(fdl.TOP_KEYS, {
        "Type": {"const": "StateMachine"}, "Name": {"type": "string", "pattern": f"^{cat.FLOW_NAME_PATTERN}$"},
        "SpecVersion": {"const": "v1"}, "Description": STRING, "StartAt": TEXT, "States": ref("states"),
        "Timeout": {"anyOf": [integer(0), NUMERIC_STRING]},
    }, required=("Type", "Name", "SpecVersion", "StartAt", "States"), what="the flow")
    return {
        "$schema": DRAFT,
        "$id": "airflow-cloudflow/flow.schema.json",
        "title": "CloudFlow flow (*.flow.yaml)",
        "description": "Generated by `airflow-cloudflow schema flow` from the validator's tables; "
                       "`airflow-cloudflow lint` checks more (references, expressions, ranges).",
        **top,
        "$defs": {
            "states": array(ref("state"), min_items=1),
            "state": {"type": "object", "required": ["Name", "Type"],
                      "properties": {"Type": enum(fdl.STATE_KEYS)},
                      "allOf": switch("Type", {kind: ref(f"state.{kind}") for kind in fdl.STATE_KEYS})},
            **{f"state.{kind}": schema for kind, schema in states.items()},
            "graph": _graph(), "retry": _retry(), "catch": _catch(),
        },
    }
