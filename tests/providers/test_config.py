"""load_settings reads [cloudflow] through Airflow's configuration (env overrides included)."""

from __future__ import annotations

import pytest

from tests.providers.airflow_env import AirflowHome


def test_defaults_come_from_the_provider_config_section(airflow_home: AirflowHome) -> None:
    from airflow_cloudflow.providers.config import load_settings

    settings = load_settings()

    assert settings.max_shards == 256
    assert settings.shard_size == 0  # planned by cost
    assert settings.staging_url == (airflow_home.root / "cloudflow" / "staging").as_uri()
    assert settings.max_map_length == 1024


def test_environment_overrides_and_max_map_length_clamp(
    airflow_home: AirflowHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_cloudflow.providers.config import load_settings

    monkeypatch.setenv("AIRFLOW__CLOUDFLOW__MAX_SHARDS", "900")
    monkeypatch.setenv("AIRFLOW__CORE__MAX_MAP_LENGTH", "100")
    monkeypatch.setenv("AIRFLOW__CLOUDFLOW__STRICT_LOADING", "true")

    settings = load_settings()

    assert settings.max_shards == 100
    assert settings.strict_loading is True
