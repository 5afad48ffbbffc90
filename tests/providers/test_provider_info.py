"""Airflow's providers manager accepts the provider: listed, [cloudflow] defaults, oss connection."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from airflow_cloudflow.get_provider_info import OSS_HOOK_CLASS, get_provider_info
from tests.providers.airflow_env import AirflowHome, airflow_cli


def test_provider_info_matches_airflows_schema() -> None:
    import airflow

    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())

    jsonschema.validate(get_provider_info(), schema)


def test_airflow_providers_list_shows_the_package(airflow_home: AirflowHome) -> None:
    result = airflow_cli(airflow_home, "providers", "list", "--output", "json")

    assert result.returncode == 0, result.stderr
    packages = {p["package_name"]: p for p in json.loads(result.stdout)}
    assert packages["airflow-cloudflow"]["version"] == get_provider_info()["versions"][0]


def test_config_get_value_returns_the_documented_default(airflow_home: AirflowHome) -> None:
    result = airflow_cli(airflow_home, "config", "get-value", "cloudflow", "max_shards")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "256"


def test_oss_connection_type_resolves_to_the_hook(airflow_home: AirflowHome) -> None:
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    hooks = ProvidersManagerTaskRuntime().hooks

    assert hooks["oss"] is not None
    assert hooks["oss"].hook_class_name == OSS_HOOK_CLASS
