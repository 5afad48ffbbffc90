"""Building blocks shared by the generated editor schemas (JSON Schema draft 2020-12)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

DRAFT = "https://json-schema.org/draft/2020-12/schema"
Schema = dict[str, Any]

TEXT: Schema = {"type": "string", "minLength": 1}
STRING: Schema = {"type": "string"}
BOOLEAN: Schema = {"type": "boolean"}
OBJECT: Schema = {"type": "object"}
ANY: Schema = {}


def integer(minimum: int | None = None, maximum: int | None = None) -> Schema:
    return _bounded({"type": "integer"}, minimum, maximum)


def number(minimum: float | None = None, maximum: float | None = None) -> Schema:
    return _bounded({"type": "number"}, minimum, maximum)


def _bounded(schema: Schema, minimum, maximum) -> Schema:
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    return schema


def enum(values: Iterable[str]) -> Schema:
    return {"enum": list(values)}


def array(items: Schema, min_items: int | None = None, max_items: int | None = None) -> Schema:
    schema: Schema = {"type": "array", "items": items}
    if min_items is not None:
        schema["minItems"] = min_items
    if max_items is not None:
        schema["maxItems"] = max_items
    return schema


def ref(name: str) -> Schema:
    return {"$ref": f"#/$defs/{name}"}


def closed(keys: Iterable[str], types: Mapping[str, Schema], required: Iterable[str] = (),
           what: str = "") -> Schema:
    """An object with exactly ``keys`` (the validator's key table); each key's schema from
    ``types``. A key missing from ``types`` is a bug in the generator, never "any value"."""
    properties = {}
    for key in keys:
        if key not in types:
            raise KeyError(f"no schema for field {key!r}{' of ' + what if what else ''}")
        properties[key] = types[key]
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    needed = [k for k in required if k in properties]
    if needed:
        schema["required"] = needed
    return schema


def switch(field: str, cases: Mapping[str, Schema]) -> list[Schema]:
    """``allOf`` entries: when ``field`` equals a case's value, the case's schema applies."""
    return [{"if": {"properties": {field: {"const": value}}, "required": [field]}, "then": then}
            for value, then in cases.items()]
