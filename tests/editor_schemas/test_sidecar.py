"""The sidecar schema is generated from the loader's key table: every key, nothing else, typed by its
checker, and a value the schema refuses is refused by the loader too."""

from __future__ import annotations

import pytest
import yaml

from airflow_cloudflow.editor_schemas import generate
from airflow_cloudflow.providers.sidecar import KEYS, read_settings
from tests.editor_schemas.support import refused, validator

SCHEMA = generate("sidecar")


def test_every_loader_key_is_a_property_and_no_other():
    assert list(SCHEMA["properties"]) == list(KEYS)
    assert SCHEMA["additionalProperties"] is False


def test_a_new_key_in_the_table_comes_into_the_schema(monkeypatch):
    from airflow_cloudflow.providers import sidecar

    monkeypatch.setitem(sidecar.KEYS, "brand_new", sidecar.Key(sidecar._boolean, nullable=False))
    assert generate("sidecar")["properties"]["brand_new"] == {"type": "boolean"}


@pytest.mark.parametrize("key", list(KEYS))
def test_a_value_the_schema_refuses_is_refused_by_the_loader(key, tmp_path):
    for value in refused(SCHEMA["properties"][key], SCHEMA):
        path = tmp_path / "x.airflow.yaml"
        path.write_text(yaml.safe_dump({key: value}))
        assert not validator("sidecar").is_valid({key: value})
        _, issues = read_settings(path)
        assert len(issues) == 1 and issues[0].is_error, f"{key} = {value!r}: the schema refuses it, the loader accepts it"
        assert issues[0].code in ("CF-E110", "CF-E530", "CF-E531")  # a wrong value; an asset schedule's own codes


def test_a_typo_is_refused_by_both(tmp_path):
    path = tmp_path / "x.airflow.yaml"
    path.write_text("schedul: '@daily'\n")
    assert not validator("sidecar").is_valid({"schedul": "@daily"})
    assert [i.code for i in read_settings(path)[1]] == ["CF-E112"]
