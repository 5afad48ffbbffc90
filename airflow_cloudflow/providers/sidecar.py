"""Airflow settings for one definition, kept beside it instead of inside it.

* ``<name>.airflow.yaml`` next to ``<name>.flow.yaml`` (or ``<name>.asl.json``) is the definition's
  *sidecar*;
* ``cloudflow.defaults.yaml`` in any folder gives *folder defaults* for every definition below it.

Layers merge key by key: folder defaults from the outermost folder (the loader's root) down to the
definition's own folder, the closest folder winning, then the sidecar, which beats them all. A key
set to ``null`` resets that key to the built-in default. Relative paths (``local_store``, ``mocks``)
resolve against the folder of the file that sets them.

Unknown keys and wrong types are ``Issue``s naming the file, line and key; ``load_options`` raises
``DefinitionError`` with all of them. YAML is read with ``SafeLoader`` only. No Airflow import.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from ..diagnostics import ERROR, Issue
from ..dialects.yaml_nodes import YamlDocument, escape_pointer_token, load_yaml
from ..exceptions import DefinitionError
from .asset_schedule import AssetCondition, AssetRef, AssetScheduleError, looks_like_asset, parse_asset_schedule
from .asset_schedule import json_schema as asset_schedule_schema
from .options import DagOptions

SIDECAR_SUFFIXES = (".airflow.yaml", ".airflow.yml")
FOLDER_DEFAULTS = "cloudflow.defaults.yaml"
DEFINITION_SUFFIXES = (".flow.yaml", ".flow.yml", ".asl.json", ".asl.yaml", ".asl.yml")

PRESETS = frozenset(
    {"@once", "@continuous", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly", "@annually"}
)
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,?#LW-]+$")


class _Invalid(Exception):
    """A value of the wrong type or out of range (the message says what was expected)."""

    def __init__(self, message: str, code: str = "CF-E110"):
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------- value checkers


def accepts(schema: dict[str, Any]) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Attach the JSON Schema of the values a checker accepts (``airflow-cloudflow schema sidecar``
    is generated from ``KEYS`` and these; a checker without one shows as "any value" there)."""
    def mark(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
        check.json_schema = schema  # type: ignore[attr-defined]
        return check

    return mark


@accepts({"type": "string", "minLength": 1, "pattern": r"\S"})
def _string(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid("expected a non-empty string")
    return value


@accepts({"type": "boolean"})
def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid("expected true or false")
    return value


def _integer(minimum: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid("expected an integer")
        if value < minimum:
            raise _Invalid(f"expected an integer >= {minimum}")
        return value

    return accepts({"type": "integer", "minimum": minimum})(check)


@accepts({"anyOf": [
    {"type": "string", "anyOf": [
        {"enum": sorted(PRESETS)},
        {"pattern": r"^\s*[0-9A-Za-z*/,?#LW-]+(\s+[0-9A-Za-z*/,?#LW-]+){4,5}\s*$"},
    ]},
    asset_schedule_schema(),
], "description": "a cron expression of 5 or 6 fields, a preset like @daily, or assets (docs/assets.md)"})
def _schedule(value: Any) -> "str | AssetRef | AssetCondition":
    if looks_like_asset(value):
        try:
            return parse_asset_schedule(value)
        except AssetScheduleError as exc:
            raise _Invalid(str(exc).removeprefix("schedule: ").removeprefix("schedule."), exc.code) from None
    text = _string(value).strip()
    if text.startswith("@"):
        if text not in PRESETS:
            raise _Invalid(f"unknown preset {text!r} (one of {', '.join(sorted(PRESETS))})")
        return text
    fields = text.split()
    if len(fields) not in (5, 6) or not all(_CRON_FIELD.match(f) for f in fields):
        raise _Invalid("expected a cron expression of 5 fields (e.g. '0 2 * * *'), a preset like '@daily', "
                       "or assets (docs/assets.md)")
    return text


@accepts({"type": "string", "minLength": 1,
          "description": "an ISO date or datetime such as 2024-01-01 or 2024-01-01T06:00:00Z (naive values are UTC)"})
def _start_date(value: Any) -> datetime:
    """ISO date or datetime; naive values are UTC, aware ones are converted to UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise _Invalid("expected an ISO date or datetime such as 2024-01-01 or 2024-01-01T06:00:00Z") from None
    else:
        raise _Invalid("expected an ISO date or datetime such as 2024-01-01")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


@accepts({"type": "array", "items": {"type": "string", "minLength": 1}})
def _tags(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(t, str) and t for t in value):
        raise _Invalid("expected a list of non-empty strings")
    return tuple(value)


@accepts({"type": "object"})
def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Invalid("expected a mapping (a JSON object)")
    return value


@accepts({"type": "string", "pattern": "^(oss|s3|file)://"})
def _staging_url(value: Any) -> str:
    text = _string(value)
    if not re.match(r"^(oss|s3|file)://", text):
        raise _Invalid("expected an oss://, s3:// or file:// URL")
    return text


_DAG_ID = re.compile(r"^[A-Za-z0-9_.-]{1,250}$")


@accepts({"type": "string", "pattern": r"^[A-Za-z0-9_.-]{1,250}$",
          "description": "the DAG's dag_id (overrides the one derived from the definition)"})
def _dag_id(value: Any) -> str:
    if not isinstance(value, str) or not _DAG_ID.match(value):
        raise _Invalid("expected an Airflow dag_id: 1-250 letters, digits, '_', '-' or '.'")
    return value


@accepts({"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]},
          "description": "values of the definition's ${name} placeholders (docs/loader.md)"})
def _substitutions(value: Any) -> dict[str, str]:
    from ..dialects.substitutions import check_values

    try:
        return check_values(value)
    except ValueError as exc:
        raise _Invalid(str(exc)) from None


JSON_SCHEMA_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})


@accepts({"type": "object", "description": "a JSON Schema of the execution input (typed trigger-form fields)"})
def _input_schema(value: Any) -> dict[str, Any]:
    """A JSON Schema of the execution input (``type: object`` with ``properties``): each property
    becomes a typed, described field of the trigger form (an Airflow ``Param``)."""
    schema = _object(value)
    if schema.get("type", "object") != "object":
        raise _Invalid("expected a JSON Schema of type object (the execution input is a JSON object)")
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not all(isinstance(p, dict) for p in properties.values()):
        raise _Invalid("expected 'properties': a mapping of input keys to JSON Schemas")
    for name, prop in properties.items():
        types = prop.get("type", [])
        for type_ in types if isinstance(types, list) else [types]:
            if type_ not in JSON_SCHEMA_TYPES:
                raise _Invalid(f"property {name!r}: unknown JSON Schema type {type_!r}")
    return schema


SUBFLOW_MODES = ("dag_run", "in_process")


@accepts({"enum": list(SUBFLOW_MODES)})
def _subflows(value: Any) -> str:
    if value not in SUBFLOW_MODES:
        raise _Invalid(f"expected one of {', '.join(SUBFLOW_MODES)}")
    return value


@dataclass(frozen=True)
class Key:
    """One settings key: how to check it, whether ``null`` is allowed, whether it is a path."""

    check: Callable[[Any], Any]
    nullable: bool = True
    path: bool = False

    @property
    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema of this key's values (``null`` included when allowed)."""
        accepted = dict(getattr(self.check, "json_schema", {}))
        if self.nullable and accepted:
            return {"anyOf": [accepted, {"type": "null"}]}
        return accepted


KEYS: dict[str, Key] = {
    "schedule": Key(_schedule),
    "start_date": Key(_start_date),
    "catchup": Key(_boolean, nullable=False),
    "tags": Key(_tags, nullable=False),
    "owner": Key(_string),
    "default_input": Key(_object, nullable=False),
    "oss_conn_id": Key(_string, nullable=False),
    "aws_conn_id": Key(_string, nullable=False),
    "pool": Key(_string),
    "retries": Key(_integer(0), nullable=False),
    "shard_retries": Key(_integer(0), nullable=False),
    "shard_retry_delay": Key(_integer(0), nullable=False),
    "local_store": Key(_string, path=True),
    "staging_url": Key(_staging_url),
    "max_shards": Key(_integer(1)),
    "shard_size": Key(_integer(1)),
    "shard_parallelism": Key(_integer(1)),
    "mocks": Key(_string, path=True),
    "subflows": Key(_subflows, nullable=False),
    "dag_id": Key(_dag_id, nullable=False),
    "definition_substitutions": Key(_substitutions),
    "input_schema": Key(_input_schema),
}
"""Settings keys → checks; each key is the ``DagOptions`` field of the same name."""
SIDECAR_ONLY = frozenset({"dag_id"})
"""Keys a folder default may not set (every definition below it would share the value)."""
MERGED = frozenset({"definition_substitutions"})
"""Mapping keys merged name by name across layers instead of replaced (a folder gives
``AWS::Region``, a sidecar adds ``FnArn``); ``null`` still resets the whole mapping."""


# --------------------------------------------------------------------------- files


def definition_stem(definition_path: str | Path) -> str:
    """``orders.flow.yaml`` → ``orders`` (the part a sidecar shares with its definition)."""
    name = Path(definition_path).name
    lower = name.lower()
    for suffix in DEFINITION_SUFFIXES:
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return Path(name).stem


def sidecar_path(definition_path: str | Path) -> Path | None:
    """The existing sidecar of a definition (``<stem>.airflow.yaml``, then ``.yml``), or None."""
    folder = Path(definition_path).parent
    stem = definition_stem(definition_path)
    for suffix in SIDECAR_SUFFIXES:
        candidate = folder / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def defaults_paths(definition_path: str | Path, root: str | Path | None = None) -> list[Path]:
    """Existing ``cloudflow.defaults.yaml`` files from ``root`` down to the definition's folder
    (outermost first). Without ``root`` (or when the definition is not below it) only the
    definition's own folder is searched."""
    folder = Path(definition_path).absolute().parent
    folders = [folder]
    if root is not None:
        top = Path(root).absolute()
        if top == folder or top in folder.parents:
            current = folder
            while current != top:
                current = current.parent
                folders.append(current)
    return [f / FOLDER_DEFAULTS for f in reversed(folders) if (f / FOLDER_DEFAULTS).is_file()]


def read_yaml_file(path: str | Path, what: str = "settings file") -> tuple[YamlDocument | None, list[Issue]]:
    """A settings-like YAML file, safely loaded with its marks; None and the issues (``CF-E105``
    unreadable, YAML errors) when it cannot be used."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Issue(file, 1, 1, "CF-E105", f"cannot read {what}: {exc}", ERROR, "")]
    doc = load_yaml(text, file)
    return (None, list(doc.issues)) if doc.issues else (doc, [])


def read_settings(path: str | Path) -> tuple[dict[str, Any], list[Issue]]:
    """Check one settings file: its typed values (paths made absolute) and every issue in it."""
    file = str(path)
    doc, problems = read_yaml_file(path)
    if doc is None:
        return {}, problems
    if doc.data is None:
        return {}, []
    if not isinstance(doc.data, dict):
        line, col = doc.mark("")
        return {}, [Issue(file, line, col, "CF-E110", "a settings file must be a mapping of keys to values", ERROR, "")]
    values: dict[str, Any] = {}
    issues: list[Issue] = []
    for key, raw in doc.data.items():
        issue = _check_key(file, doc, key, raw, values)
        if issue is not None:
            issues.append(issue)
    return values, issues


def _check_key(file: str, doc: YamlDocument, key: str, raw: Any, out: dict[str, Any]) -> Issue | None:
    pointer = "/" + escape_pointer_token(key)
    line, col = doc.mark(pointer)
    spec = KEYS.get(key)
    if spec is None:
        hint = _did_you_mean(key)
        return Issue(file, line, col, "CF-E112", f"unknown settings key {key!r}{hint}", ERROR, pointer)
    if key in SIDECAR_ONLY and Path(file).name == FOLDER_DEFAULTS:
        return Issue(file, line, col, "CF-E112", f"{key!r} belongs in a definition's sidecar, not in {FOLDER_DEFAULTS}", ERROR, pointer)
    if raw is None:
        if not spec.nullable:
            return Issue(file, line, col, "CF-E110", f"{key}: null is not allowed", ERROR, pointer)
        out[key] = None
        return None
    try:
        value = spec.check(raw)
    except _Invalid as exc:
        return Issue(file, line, col, exc.code, f"{key}: {exc}", ERROR, pointer)
    if spec.path:
        value = str((Path(file).parent / value).resolve())
    out[key] = value
    return None


def _did_you_mean(key: str) -> str:
    import difflib

    close = difflib.get_close_matches(key, KEYS, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (known keys: {', '.join(KEYS)})"


# --------------------------------------------------------------------------- options


def load_options(definition_path: str | Path, root: str | Path | None = None) -> DagOptions:
    """The ``DagOptions`` of one definition: folder defaults (``root`` down to its folder), then
    its sidecar. Raises ``DefinitionError`` listing every issue of every settings file."""
    merged: dict[str, Any] = {}
    issues: list[Issue] = []
    layers = defaults_paths(definition_path, root)
    sidecar = sidecar_path(definition_path)
    if sidecar is not None:
        layers.append(sidecar)
    for layer in layers:
        values, found = read_settings(layer)
        issues.extend(found)
        for key in MERGED & values.keys():
            if values[key] is not None and merged.get(key):
                values[key] = {**merged[key], **values[key]}
        merged.update(values)
    if issues:
        raise DefinitionError(issues, str(layers[-1]) if layers else None)
    defaults = DagOptions()
    fields = {k: (getattr(defaults, k) if v is None else v) for k, v in merged.items()}
    return DagOptions(**fields, source_path=str(definition_path))


def settings_files(definition_path: str | Path, root: str | Path | None = None) -> list[Path]:
    """Every settings file that shapes a definition's options (for cache keys and docs)."""
    files = defaults_paths(definition_path, root)
    sidecar = sidecar_path(definition_path)
    return files + ([sidecar] if sidecar is not None else [])


__all__ = [
    "FOLDER_DEFAULTS", "KEYS", "SIDECAR_SUFFIXES", "defaults_paths", "definition_stem", "load_options",
    "read_settings", "settings_files", "sidecar_path",
]
