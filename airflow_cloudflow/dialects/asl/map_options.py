"""Lint rules for the ItemReader ``ReaderConfig`` and ResultWriter ``WriterConfig`` options, so an
option the run would ignore or mishandle is an error instead of a silent difference from AWS.

* ``ASL-E330``: a value or combination AWS documents otherwise: ``InputType`` one of ``CSV | JSON |
  JSONL | PARQUET | MANIFEST``; ``Transformation: LOAD_AND_FLATTEN`` "is for listObjectsV2 only and
  requires InputType"; an ``InputType`` on listObjectsV2 only with it; ``ItemsPointer`` (JSON
  InputType) a JSON Pointer; ``ManifestType`` ``ATHENA_DATA | S3_INVENTORY`` ("S3_INVENTORY:
  InputType must then be omitted").
* ``ASL-E331``: ``InputType: PARQUET`` while pyarrow (the ``parquet`` extra) is not installed.
* ``ASL-E332``: ``WriterConfig`` ``OutputType`` not ``JSON | JSONL`` or ``Transformation`` not
  ``NONE | COMPACT | FLATTEN``.
* ``ASL-E333``: an AWS option not implemented here (``ManifestType: ATHENA_DATA``).
(asl-distributed-map.md §2.2, §2.6.)
"""

from __future__ import annotations

from typing import Any, Callable

from airflow_cloudflow import extras
from airflow_cloudflow.dialects.fields import child

GET_OBJECT = "arn:aws:states:::s3:getObject"
LIST_OBJECTS_V2 = "arn:aws:states:::s3:listObjectsV2"
INPUT_TYPES = ("CSV", "JSON", "JSONL", "PARQUET", "MANIFEST")
FLATTENED_TYPES = ("CSV", "JSON", "JSONL", "PARQUET")
OUTPUT_TYPES = ("JSON", "JSONL")
WRITER_TRANSFORMATIONS = ("NONE", "COMPACT", "FLATTEN")

Report = Callable[[str, str, str], None]


def _literal(value: Any) -> bool:
    """A value the linter can judge (not a JSONata ``{% %}`` expression)."""
    return not (isinstance(value, str) and value.strip().startswith("{%"))


def check_reader_config(config: dict, resource: str, pointer: str, report: Report) -> None:
    """Report every ``ReaderConfig`` problem of an ItemReader on ``resource``."""
    input_type = config.get("InputType")
    transformation = config.get("Transformation", "NONE")
    at = lambda key: child(pointer, key)  # noqa: E731
    if "InputType" in config and _literal(input_type) and input_type not in INPUT_TYPES:
        report("ASL-E330", f"ReaderConfig InputType must be one of {', '.join(INPUT_TYPES)}, got {input_type!r}", at("InputType"))
    if _literal(transformation) and transformation not in ("NONE", "LOAD_AND_FLATTEN"):
        report("ASL-E330", f"ReaderConfig Transformation must be NONE or LOAD_AND_FLATTEN, got {transformation!r}",
               at("Transformation"))
    elif transformation == "LOAD_AND_FLATTEN":
        if resource != LIST_OBJECTS_V2:
            report("ASL-E330", "Transformation LOAD_AND_FLATTEN is for an s3:listObjectsV2 ItemReader only", at("Transformation"))
        elif input_type not in FLATTENED_TYPES:
            report("ASL-E330", f"Transformation LOAD_AND_FLATTEN needs InputType {', '.join(FLATTENED_TYPES)}", at("Transformation"))
    elif resource == LIST_OBJECTS_V2 and "InputType" in config:
        report("ASL-E330", "an s3:listObjectsV2 ItemReader reads object metadata: InputType needs "
                           "Transformation LOAD_AND_FLATTEN", at("InputType"))
    if "ItemsPointer" in config:
        items_pointer = config["ItemsPointer"]
        if input_type not in (None, "JSON"):
            report("ASL-E330", "ItemsPointer applies to InputType JSON only", at("ItemsPointer"))
        elif _literal(items_pointer) and not (isinstance(items_pointer, str) and (items_pointer == "" or items_pointer.startswith("/"))):
            report("ASL-E330", f"ItemsPointer must be a JSON Pointer such as '/inventory/items', got {items_pointer!r}",
                   at("ItemsPointer"))
    manifest = config.get("ManifestType")
    if manifest == "ATHENA_DATA":
        report("ASL-E333", "ManifestType ATHENA_DATA (an Athena UNLOAD manifest) is not implemented", at("ManifestType"))
    elif manifest == "S3_INVENTORY" and input_type is not None:
        report("ASL-E330", "ManifestType S3_INVENTORY implies CSV: omit InputType", at("InputType"))
    elif "ManifestType" in config and _literal(manifest) and manifest != "S3_INVENTORY":
        report("ASL-E330", f"ManifestType must be ATHENA_DATA or S3_INVENTORY, got {manifest!r}", at("ManifestType"))
    if input_type == "PARQUET":
        if not extras.parquet_available():
            report("ASL-E331", extras.PARQUET_HINT, at("InputType"))


def check_writer_config(config: dict, pointer: str, report: Report) -> None:
    """Report the ``WriterConfig`` values AWS does not accept."""
    for key, allowed in (("OutputType", OUTPUT_TYPES), ("Transformation", WRITER_TRANSFORMATIONS)):
        if key in config and _literal(config[key]) and config[key] not in allowed:
            report("ASL-E332", f"WriterConfig {key} must be one of {', '.join(allowed)}, got {config[key]!r}",
                   child(pointer, key))
