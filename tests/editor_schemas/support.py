"""Helpers for the editor-schema tests: validators, YAML as an editor sees it, wrong-typed values."""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

import jsonschema
import yaml

from airflow_cloudflow.editor_schemas import generate

CANDIDATES: tuple[Any, ...] = (12345, -7, "text", "", True, [1], ["a"], {"x": 1}, None, 2.5)
"""Values tried on every field: those its schema refuses must be refused by the validator too."""


@functools.cache
def validator(kind: str) -> jsonschema.Draft202012Validator:
    """The checked schema's validator (built once: checking a schema against the metaschema is slow)."""
    schema = generate(kind)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def as_editor_sees(text: str) -> Any:
    """The document's JSON data model (a YAML date is the string an editor's YAML 1.2 reader sees)."""
    return json.loads(json.dumps(yaml.safe_load(text), default=str))


def refused(field_schema: dict, root: dict) -> list[Any]:
    """The candidates that ``field_schema`` (resolved against ``root``'s ``$defs``) refuses."""
    check = jsonschema.Draft202012Validator({**field_schema, "$defs": root.get("$defs", {})})
    return [value for value in CANDIDATES if not check.is_valid(value)]


def with_value(document: dict, path: tuple, value: Any) -> dict:
    """A copy of ``document`` with the field at ``path`` set to ``value``."""
    changed = copy.deepcopy(document)
    node = changed
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return changed
