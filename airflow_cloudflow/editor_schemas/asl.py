"""The editor schema of Step Functions state machines (``*.asl.json`` / ``*.asl.yaml``), generated
from the validator's tables: ``dialects.asl`` (``TOP_KEYS``, ``JSONPATH_KEYS``, ``JSONATA_KEYS``,
``GRAPH_KEYS``), ``dialects.asl_fields`` (Retry/Catch keys, JitterStrategy) and ``dialects.asl_map``
(ItemReader/ItemBatcher/ResultWriter keys, Modes, ExecutionTypes, Resources, the Label rule).

"The QueryLanguage of a state … inherits the top-level one": the schema has one set of state
definitions per language; a JSONPath scope switches to the JSONata set for a state that says
``QueryLanguage: JSONata``, and a JSONata machine uses the JSONata set all the way down (ASL-E301).
The field shapes no table holds are ``field_types`` below, checked against the validator by a test.
"""

from __future__ import annotations

from ..dialects.asl import builder as asl, fields as asl_fields, map as asl_map
from .common import (
    ANY, BOOLEAN, DRAFT, OBJECT, STRING, TEXT, Schema, array, closed, enum, integer, number, ref, switch,
)

JSONPATH, JSONATA = asl_fields.JSONPATH, asl_fields.JSONATA
JSONATA_TEXT: Schema = {"type": "string", "pattern": r"^\{%[\s\S]*%\}$", "description": "a JSONata expression {% … %}"}
PATH: Schema = {"type": "string", "pattern": r"^\$", "description": "a JSONPath starting with $"}
NULLABLE_PATH: Schema = {"anyOf": [PATH, {"type": "null"}]}


def _label() -> Schema:
    """"at most 40 characters, unique within the definition, and free of whitespace, ? *, …"."""
    special = "\\]^-["
    forbidden = "".join("\\" + ch if ch in special else ch for ch in sorted(asl_map.LABEL_FORBIDDEN - {"\t", "\n", "\r"}))
    return {"type": "string", "minLength": 1, "maxLength": asl_map.LABEL_MAX,
            "pattern": f"^[^{forbidden}\\t\\n\\r\\u0000-\\u001f\\u007f-\\u009f]*$"}


def _dynamic(language: str, schema: Schema) -> Schema:
    """A number field: a literal, or in JSONata also ``{% … %}`` (``AslFields.dynamic``)."""
    return {"anyOf": [schema, JSONATA_TEXT]} if language == JSONATA else schema


def field_types(language: str) -> dict[str, Schema]:
    """Field → schema for the states of one query language (the builder reads a field the same
    way in every state type that has it)."""
    count = _dynamic(language, integer(0))
    text = {"anyOf": [TEXT, JSONATA_TEXT]} if language == JSONATA else TEXT
    return {
        "Type": STRING, "Comment": TEXT, "QueryLanguage": enum(asl.QUERY_LANGUAGES), "Next": TEXT, "End": BOOLEAN,
        "InputPath": NULLABLE_PATH, "OutputPath": NULLABLE_PATH, "ResultPath": NULLABLE_PATH,
        "ResultSelector": ANY, "Parameters": ANY, "Arguments": ANY, "Result": ANY, "Output": ANY,
        "Assign": OBJECT, "Credentials": ANY,
        "Resource": {"type": "string", "pattern": "^arn:"},
        "TimeoutSeconds": count, "TimeoutSecondsPath": PATH, "HeartbeatSeconds": count, "HeartbeatSecondsPath": PATH,
        "Retry": array(ref("retry")), "Catch": array(ref(f"catch.{language}")),
        "Choices": array(ref(f"choice.{language}"), min_items=1), "Default": TEXT,
        "Seconds": count, "SecondsPath": PATH, "Timestamp": STRING, "TimestampPath": PATH,
        "Error": text, "ErrorPath": STRING, "Cause": text, "CausePath": STRING,
        "Branches": array(ref(f"graph.{language}"), min_items=1),
        "ItemProcessor": ref(f"processor.{language}"), "Iterator": ref(f"processor.{language}"),
        "ItemsPath": PATH, "Items": ANY, "ItemSelector": ANY,
        "ItemReader": ref(f"reader.{language}"), "ItemBatcher": ref(f"batcher.{language}"),
        "ResultWriter": ref(f"writer.{language}"),
        "MaxConcurrency": count, "MaxConcurrencyPath": PATH,
        "ToleratedFailureCount": count, "ToleratedFailureCountPath": PATH,
        "ToleratedFailurePercentage": _dynamic(language, number(0)), "ToleratedFailurePercentagePath": PATH,
        "Label": _label(),
    }


REQUIRED = {"Task": ("Resource",), "Choice": ("Choices",), "Parallel": ("Branches",)}


def _state(kind: str, keys: tuple[str, ...], language: str) -> Schema:
    schema = closed(keys, field_types(language), required=("Type",) + REQUIRED.get(kind, ()),
                    what=f"a {language} {kind} state")
    schema["properties"]["Type"] = {"const": kind}
    if kind == "Wait":  # ASL-E310
        schema["oneOf"] = [{"required": [k]} for k in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath")
                           if k in keys]
    if kind == "Map":
        schema["oneOf"] = [{"required": ["ItemProcessor"]}, {"required": ["Iterator"]}]
    if kind == "Fail":
        schema["not"] = {"anyOf": [{"required": ["Error", "ErrorPath"]}, {"required": ["Cause", "CausePath"]}]}
    return schema


def _language_defs(language: str) -> dict[str, Schema]:
    table = asl.JSONATA_KEYS if language == JSONATA else asl.JSONPATH_KEYS
    types = field_types(language)
    args = asl_map.arguments_key(language)
    defs: dict[str, Schema] = {f"state.{language}.{kind}": _state(kind, keys, language) for kind, keys in table.items()}
    typed = {"type": "object", "required": ["Type"], "properties": {"Type": enum(table)},
             "allOf": switch("Type", {kind: ref(f"state.{language}.{kind}") for kind in table})}
    if language == JSONATA:
        typed["properties"]["QueryLanguage"] = {"const": JSONATA}
        defs[f"state.{language}"] = typed
    else:  # a JSONPath scope: a state may switch itself to JSONata
        defs[f"typed.{language}"] = typed
        defs[f"state.{language}"] = {
            "if": {"properties": {"QueryLanguage": {"const": JSONATA}}, "required": ["QueryLanguage"]},
            "then": ref(f"state.{JSONATA}"), "else": ref(f"typed.{language}"),
        }
    states = {"type": "object", "minProperties": 1, "propertyNames": {"maxLength": 80},
              "additionalProperties": ref(f"state.{language}")}
    defs[f"states.{language}"] = states
    defs[f"graph.{language}"] = closed(asl.GRAPH_KEYS, {
        "StartAt": TEXT, "States": ref(f"states.{language}"), "Comment": TEXT, "ProcessorConfig": OBJECT,
    }, required=("StartAt", "States"), what="a Parallel branch")
    defs[f"processor.{language}"] = closed(asl_map.PROCESSOR_KEYS, {
        "StartAt": TEXT, "States": ref(f"states.{language}"), "Comment": TEXT,
        "ProcessorConfig": closed(asl_map.PROCESSOR_CONFIG_KEYS, {
            "Mode": enum(asl_map.MODES), "ExecutionType": enum(asl_map.EXECUTION_TYPES)}),
    }, required=("StartAt", "States"), what="an ItemProcessor")
    defs[f"reader.{language}"] = closed(asl_map.READER_KEYS + (args,), {
        "Resource": enum(asl_map.READER_RESOURCES), args: ANY,
        "ReaderConfig": closed(asl_map.READER_CONFIG_KEYS, {
            "InputType": STRING, "CSVHeaderLocation": STRING, "CSVHeaders": array(STRING), "CSVDelimiter": STRING,
            "MaxItems": types["MaxConcurrency"], "MaxItemsPath": PATH, "Transformation": STRING,
            "ManifestType": STRING, "ItemsPointer": STRING}, what="ReaderConfig"),
    }, required=("Resource",), what="ItemReader")
    defs[f"batcher.{language}"] = closed(asl_map.BATCHER_KEYS, {
        "MaxItemsPerBatch": types["MaxConcurrency"], "MaxItemsPerBatchPath": PATH,
        "MaxInputBytesPerBatch": types["MaxConcurrency"], "MaxInputBytesPerBatchPath": PATH, "BatchInput": ANY,
    }, what="ItemBatcher")
    defs[f"writer.{language}"] = closed(asl_map.WRITER_KEYS + (args,), {
        "Resource": {"const": asl_map.WRITER_RESOURCE}, args: ANY, "WriterConfig": OBJECT,
    }, what="ResultWriter")
    catch_keys = tuple(k for k in asl_fields.CATCH_KEYS if k != ("ResultPath" if language == JSONATA else "Output"))
    defs[f"catch.{language}"] = closed(catch_keys, {
        "ErrorEquals": array(STRING, min_items=1), "Next": TEXT, "ResultPath": NULLABLE_PATH, "Comment": TEXT,
        "Output": ANY, "Assign": OBJECT}, required=("ErrorEquals", "Next"), what="a Catch rule")
    if language == JSONATA:
        defs[f"choice.{language}"] = closed(asl.JSONATA_CHOICE_KEYS, {
            "Condition": JSONATA_TEXT, "Next": TEXT, "Comment": TEXT, "Assign": OBJECT, "Output": ANY,
        }, required=("Condition", "Next"), what="a JSONata Choice rule")
    else:  # the rule grammar (Variable, operators, And/Or/Not) is checked by lint (ASL-E402)
        defs[f"choice.{language}"] = {"type": "object"}
    return defs


def _retry() -> Schema:
    return closed(asl_fields.RETRY_KEYS, {
        "ErrorEquals": array(STRING, min_items=1), "IntervalSeconds": integer(1), "MaxAttempts": integer(0),
        "BackoffRate": number(1), "MaxDelaySeconds": integer(), "JitterStrategy": enum(asl_fields.JITTER_STRATEGIES),
        "Comment": TEXT}, required=("ErrorEquals",), what="a Retry rule")


def generate() -> Schema:
    top = closed(asl.TOP_KEYS, {
        "Comment": TEXT, "StartAt": TEXT, "States": OBJECT, "TimeoutSeconds": integer(0),
        "Version": STRING, "QueryLanguage": enum(asl.QUERY_LANGUAGES),
    }, required=("StartAt", "States"), what="the state machine")
    defs: dict[str, Schema] = {"retry": _retry()}
    for language in (JSONPATH, JSONATA):
        defs.update(_language_defs(language))
    return {
        "$schema": DRAFT,
        "$id": "airflow-cloudflow/asl.schema.json",
        "title": "Step Functions state machine (*.asl.json, *.asl.yaml)",
        "description": "Generated by `airflow-cloudflow schema asl` from the validator's tables; "
                       "`airflow-cloudflow lint` checks more (references, paths, JSONata, Choice rules).",
        **top,
        "allOf": [{"if": {"properties": {"QueryLanguage": {"const": JSONATA}}, "required": ["QueryLanguage"]},
                   "then": {"properties": {"States": ref(f"states.{JSONATA}")}},
                   "else": {"properties": {"States": ref(f"states.{JSONPATH}")}}}],
        "$defs": defs,
    }
