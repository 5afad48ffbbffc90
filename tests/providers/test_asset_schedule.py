"""The sidecar's asset schedule (``providers/asset_schedule.py``): forms, URIs, coded errors."""

from __future__ import annotations

import pytest

from airflow_cloudflow.providers.asset_schedule import (
    AssetCondition,
    AssetRef,
    AssetScheduleError,
    json_schema,
    parse_asset_schedule,
)
from airflow_cloudflow.providers.sidecar import read_settings


def test_one_uri_a_list_and_nested_conditions() -> None:
    assert parse_asset_schedule("oss://data/orders.csv") == AssetRef("oss://data/orders.csv")
    assert parse_asset_schedule(["s3://data/a/", "oss://data/b"]) == AssetCondition(
        "all", (AssetRef("s3://data/a"), AssetRef("oss://data/b")))  # trailing slash: as Airflow writes it
    assert parse_asset_schedule({"any": ["oss://data/a", {"all": ["x-team://feed", "s3://data/c"]}]}) == AssetCondition(
        "any", (AssetRef("oss://data/a"), AssetCondition("all", (AssetRef("x-team://feed"), AssetRef("s3://data/c")))))


@pytest.mark.parametrize(("value", "code", "message"), [
    ({"every": ["oss://data/a"]}, "CF-E530", "exactly one key, 'all' or 'any'"),
    ({"any": []}, "CF-E530", "schedule.any: expected a non-empty list"),
    ({"all": [3]}, "CF-E530", "schedule.all[0]: expected an asset URI"),
    ({"all": [{"all": [{"all": [{"all": [{"all": [{"all": ["oss://data/a"]}]}]}]}]}]}, "CF-E530", "at most 5 deep"),
    (["oss://data/a", "not a uri"], "CF-E531", "schedule[1]: 'not a uri' is not an asset URI"),
    ("oss://data/../other/x", "CF-E531", "'..'"),
    ("oss://x/a", "CF-E531", "invalid bucket name 'x'"),
    ("airflow://data/a", "CF-E531", "reserved"),
])
def test_a_wrong_schedule_names_the_item_with_a_code(value, code, message) -> None:
    with pytest.raises(AssetScheduleError) as raised:
        parse_asset_schedule(value)

    assert raised.value.code == code and message in str(raised.value)


def test_a_sidecar_reports_the_code_file_and_line(tmp_path) -> None:
    sidecar = tmp_path / "orders.airflow.yaml"
    sidecar.write_text("tags: [a]\nschedule:\n  any: [oss://data/a, 'nope']\n")

    values, issues = read_settings(sidecar)

    [issue] = issues
    assert (issue.code, issue.line) == ("CF-E531", 2)
    assert issue.message == "schedule: any[1]: 'nope' is not an asset URI (scheme://...)"
    sidecar.write_text("schedule: [oss://data/a]\n")
    assert read_settings(sidecar) == ({"schedule": AssetCondition("all", (AssetRef("oss://data/a"),))}, [])
    sidecar.write_text("schedule: '0 2 * *'\n")  # a cron string keeps its own error
    assert [i.code for i in read_settings(sidecar)[1]] == ["CF-E110"]


NESTED = {"any": ["oss://data/a", {"all": ["s3://bkt/x", {"any": ["s3://bkt/y"]}]}]}


@pytest.mark.parametrize("value", ["oss://data/a", ["oss://data/a", "s3://data/b"], NESTED])
def test_the_json_schema_accepts_what_the_parser_accepts(value) -> None:
    import jsonschema

    parse_asset_schedule(value)
    jsonschema.validate(value, json_schema())


@pytest.mark.parametrize("value", [{"every": ["oss://data/a"]}, {"any": []}, ["orders.csv"],
                                   {"all": ["oss://data/a"], "any": ["oss://data/b"]},
                                   {"all": [{"all": [{"all": [{"all": [{"all": [{"all": ["oss://data/a"]}]}]}]}]}]}])
def test_the_json_schema_refuses_what_the_parser_refuses(value) -> None:
    import jsonschema

    with pytest.raises(AssetScheduleError):
        parse_asset_schedule(value)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(value, json_schema())
