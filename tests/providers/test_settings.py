"""[cloudflow] option strings → CloudflowSettings (pure; no Airflow needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_cloudflow.providers.settings import SettingsError, default_options, parse_settings


def test_defaults_resolve_locations_under_airflow_home(tmp_path: Path) -> None:
    settings = parse_settings({}, airflow_home=tmp_path)

    assert settings.max_shards == 256
    assert settings.shard_size == 0  # planned by cost
    assert settings.staging_url == (tmp_path / "cloudflow" / "staging").as_uri()
    assert settings.allowed_modules == ()
    assert settings.strict_loading is False


def test_max_shards_never_exceeds_max_map_length(tmp_path: Path) -> None:
    settings = parse_settings({"max_shards": "5000"}, airflow_home=tmp_path, max_map_length=1024)

    assert settings.max_shards == 1024
    assert settings.max_map_length == 1024


def test_explicit_values_are_parsed(tmp_path: Path) -> None:
    settings = parse_settings(
        {
            "shard_size": "50",
            "staging_url": " s3://bucket/staging ",
            "allowed_modules": "a.b, c ,,",
            "strict_loading": "True",
        },
        airflow_home=tmp_path,
    )

    assert settings.shard_size == 50
    assert settings.staging_url == "s3://bucket/staging"
    assert settings.allowed_modules == ("a.b", "c")
    assert settings.strict_loading is True


@pytest.mark.parametrize(
    ("name", "value"),
    [("max_shards", "0"), ("shard_size", "many"), ("strict_loading", "maybe")],
)
def test_invalid_values_name_the_option(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=rf"\[cloudflow\] {name}"):
        parse_settings({name: value}, airflow_home=tmp_path)


def test_default_options_are_the_documented_strings() -> None:
    assert default_options()["max_shards"] == "256"
    assert default_options()["strict_loading"] == "False"
