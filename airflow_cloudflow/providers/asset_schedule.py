"""The sidecar's asset schedule: run a flow when the objects it reads are updated (docs/assets.md).

```yaml
schedule: oss://demo-bucket/orders.csv              # one asset
schedule: [oss://b/orders.csv, s3://b/prices.json]  # all of them (Airflow's list schedule)
schedule: {any: [oss://b/a.csv, {all: [s3://b/x, s3://b/y]}]}
```

An item is an asset URI (``scheme://…``; ``oss://`` and ``s3://`` need a valid bucket and a key that
stays in it) or a one-key mapping ``all:``/``any:`` of items, nested at most ``MAX_DEPTH`` deep.
Errors: ``CF-E530`` (the form), ``CF-E531`` (a URI). No Airflow import: ``providers/assets.py``
turns the result into ``Asset``/``AssetAll``/``AssetAny``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Union

from ..storage.locations import SCHEMES, DataLocation
from ..storage.urls import UnsafeKey, safe_bucket, safe_key

SCHEDULE_FORM = "CF-E530"
ASSET_URI = "CF-E531"
MAX_DEPTH = 5
OPERATORS = ("all", "any")
_URI = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://(.*)$", re.DOTALL)


class AssetScheduleError(ValueError):
    """A wrong asset schedule; ``code`` is ``CF-E530`` or ``CF-E531``."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class AssetRef:
    uri: str


@dataclass(frozen=True)
class AssetCondition:
    """``all`` (every asset updated since the last run) or ``any`` (one of them) of its items."""

    operator: str
    items: tuple[Union[AssetRef, "AssetCondition"], ...]


def looks_like_asset(value: Any) -> bool:
    """A schedule value meant as assets (a cron string or preset is not)."""
    return isinstance(value, (list, dict)) or (isinstance(value, str) and "://" in value)


def parse_asset_schedule(value: Any) -> AssetRef | AssetCondition:
    """The sidecar's ``schedule`` value as an asset condition; raises ``AssetScheduleError``."""
    if isinstance(value, list):
        return _condition("all", value, "schedule", 1)
    return _item(value, "schedule", 1)


def _item(value: Any, where: str, depth: int) -> AssetRef | AssetCondition:
    if isinstance(value, str):
        return AssetRef(asset_uri(value, where))
    if isinstance(value, dict):
        if len(value) != 1 or next(iter(value)) not in OPERATORS:
            raise AssetScheduleError(SCHEDULE_FORM, f"{where}: expected a mapping with exactly one key, "
                                     f"'all' or 'any', got {sorted(map(str, value)) or 'an empty mapping'}")
        operator, items = next(iter(value.items()))
        return _condition(operator, items, f"{where}.{operator}", depth)
    raise AssetScheduleError(SCHEDULE_FORM, f"{where}: expected an asset URI, a list of them, or "
                             f"{{all: [...]}} / {{any: [...]}}")


def _condition(operator: str, items: Any, where: str, depth: int) -> AssetCondition:
    if depth > MAX_DEPTH:
        raise AssetScheduleError(SCHEDULE_FORM, f"{where}: asset conditions nest at most {MAX_DEPTH} deep")
    if not isinstance(items, list) or not items:
        raise AssetScheduleError(SCHEDULE_FORM, f"{where}: expected a non-empty list of assets")
    return AssetCondition(operator, tuple(_item(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(items)))


def asset_uri(text: str, where: str = "schedule") -> str:
    """A checked asset URI, ``oss://``/``s3://`` ones normalised as ``DataLocation.uri`` writes them."""
    match = _URI.match(text.strip())
    if not match:
        raise AssetScheduleError(ASSET_URI, f"{where}: {text!r} is not an asset URI (scheme://...)")
    scheme, rest = match.group(1).lower(), match.group(2)
    if scheme == "airflow":
        raise AssetScheduleError(ASSET_URI, f"{where}: the asset scheme 'airflow' is reserved by Airflow")
    if scheme not in SCHEMES:
        return text.strip()
    bucket, _, key = rest.partition("/")
    try:
        safe_bucket(bucket)
        safe_key(key, allow_empty=True)
    except UnsafeKey as exc:
        raise AssetScheduleError(ASSET_URI, f"{where}: {text!r}: {exc}") from None
    return DataLocation(scheme, bucket, key).uri


def json_schema(depth: int = MAX_DEPTH) -> dict[str, Any]:
    """The JSON Schema of the asset forms of ``schedule`` (for editor schemas), unrolled ``depth``
    levels deep (no ``$ref``: it can be embedded anywhere). URIs are checked only for a scheme."""
    uri = {"type": "string", "pattern": r"^[A-Za-z][A-Za-z0-9+.-]*://", "description": "an asset URI"}

    def level(remaining: int) -> dict[str, Any]:
        item = uri if remaining == 0 else {"anyOf": [uri, condition(remaining - 1)]}
        return {"type": "array", "minItems": 1, "items": item}

    def condition(remaining: int) -> dict[str, Any]:
        return {"type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": False,
                "properties": {op: level(remaining) for op in OPERATORS}}

    top = depth - 1
    return {"anyOf": [uri, level(top), condition(top)],
            "description": "assets: a URI, a list of them (all), or {all: [...]} / {any: [...]} (docs/assets.md)"}


def asset_uris(condition: AssetRef | AssetCondition) -> list[str]:
    """Every URI of a condition, in order."""
    if isinstance(condition, AssetRef):
        return [condition.uri]
    return [uri for item in condition.items for uri in asset_uris(item)]


__all__ = ["ASSET_URI", "AssetCondition", "AssetRef", "AssetScheduleError", "SCHEDULE_FORM", "asset_uri",
           "asset_uris", "json_schema", "looks_like_asset", "parse_asset_schedule"]
