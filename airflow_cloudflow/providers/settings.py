"""The ``[cloudflow]`` settings as a typed value, parsed from plain strings (no Airflow import)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from airflow_cloudflow.get_provider_info import CONFIG_OPTIONS

SECTION = "cloudflow"
DEFAULT_MAX_MAP_LENGTH = 1024
_TRUE = {"true", "t", "1", "yes", "y", "on"}
_FALSE = {"false", "f", "0", "no", "n", "off", ""}


class SettingsError(ValueError):
    """A ``[cloudflow]`` option holds a value of the wrong type or out of range."""


@dataclass(frozen=True)
class CloudflowSettings:
    """Effective provider settings; defaults live in ``get_provider_info.CONFIG_OPTIONS``."""

    max_shards: int
    """Cap on mapped processor instances of one Map, already clamped to ``[core] max_map_length``."""
    shard_size: int
    """Children per shard replacing the cost-based plan; 0 plans by cost."""
    staging_url: str
    """Where shards and child results are written (``oss://``, ``s3://`` or ``file://``)."""
    allowed_modules: tuple[str, ...]
    """Module prefixes a Python-callable Task may import; empty allows none."""
    strict_loading: bool
    """Fail the whole loader file on one invalid definition."""
    max_map_length: int = DEFAULT_MAX_MAP_LENGTH
    """``[core] max_map_length`` the cap was clamped to."""
    shard_parallelism: int = 0
    """Shard instances of one Map that can run at once; 0 measures it."""
    shard_overhead_seconds: float = 1.0
    """Fixed cost of one shard instance, for the shard planner."""
    child_seconds: float = 0.00005
    """The planner's estimate of one child's work."""


def default_options() -> dict[str, str]:
    """The documented defaults, as the strings Airflow's config would return."""
    return {name: str(option["default"]) for name, option in CONFIG_OPTIONS.items()}


def parse_settings(
    options: Mapping[str, str],
    *,
    airflow_home: str | Path,
    max_map_length: int = DEFAULT_MAX_MAP_LENGTH,
) -> CloudflowSettings:
    """Build settings from raw option strings; missing options take their documented default."""
    raw = {**default_options(), **{k: v for k, v in options.items() if v is not None}}
    home = Path(airflow_home)
    max_shards = _positive_int("max_shards", raw["max_shards"])
    staging_url = raw["staging_url"].strip() or (home / "cloudflow" / "staging").as_uri()
    return CloudflowSettings(
        max_shards=min(max_shards, max_map_length),
        shard_size=_int_at_least("shard_size", raw["shard_size"], 0),
        shard_parallelism=_int_at_least("shard_parallelism", raw["shard_parallelism"], 0),
        shard_overhead_seconds=_positive_float("shard_overhead_seconds", raw["shard_overhead_seconds"]),
        child_seconds=_positive_float("child_seconds", raw["child_seconds"]),
        staging_url=staging_url,
        allowed_modules=tuple(p.strip() for p in raw["allowed_modules"].split(",") if p.strip()),
        strict_loading=_bool("strict_loading", raw["strict_loading"]),
        max_map_length=max_map_length,
    )


def _positive_int(name: str, text: str) -> int:
    return _int_at_least(name, text, 1)


def _int_at_least(name: str, text: str, minimum: int) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise SettingsError(f"[{SECTION}] {name} must be an integer, got {text!r}") from None
    if value < minimum:
        raise SettingsError(f"[{SECTION}] {name} must be at least {minimum}, got {value}")
    return value


def _positive_float(name: str, text: str) -> float:
    try:
        value = float(str(text).strip())
    except ValueError:
        raise SettingsError(f"[{SECTION}] {name} must be a number, got {text!r}") from None
    if not (0 < value < 1e6):
        raise SettingsError(f"[{SECTION}] {name} must be a positive number of seconds, got {text!r}")
    return value


def _bool(name: str, text: str) -> bool:
    lowered = str(text).strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise SettingsError(f"[{SECTION}] {name} must be a boolean, got {text!r}")
