"""Sidecar settings and folder defaults → DagOptions."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from airflow_cloudflow.exceptions import DefinitionError
from airflow_cloudflow.providers.options import DagOptions
from airflow_cloudflow.providers.sidecar import KEYS, definition_stem, load_options, sidecar_path
from tests.providers.loader_support import write


def _options(folder: Path, sidecar: str | None = None, flow: str = "x.flow.yaml", root: Path | None = None) -> DagOptions:
    definition = write(folder, flow, "Type: StateMachine\n")
    if sidecar is not None:
        write(definition.parent, f"{definition_stem(definition)}.airflow.yaml", sidecar)
    return load_options(definition, root)


def _issues(folder: Path, sidecar: str) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        _options(folder, sidecar)
    return [str(i) for i in info.value.issues]


def test_every_key_is_a_dag_options_field():
    assert set(KEYS) <= set(DagOptions.__dataclass_fields__)


def test_no_settings_files_give_the_defaults_and_the_source_path(tmp_path):
    options = _options(tmp_path)
    assert options == DagOptions(source_path=str(tmp_path / "x.flow.yaml"))


def test_a_full_sidecar_maps_every_key(tmp_path):
    options = _options(tmp_path, """\
        schedule: "0 2 * * *"
        start_date: 2024-05-01T06:30:00+02:00
        catchup: true
        tags: [etl, orders]
        owner: data-team
        default_input: {bucket: b, limit: 3}
        oss_conn_id: oss_prod
        aws_conn_id: aws_prod
        pool: cloudflow
        retries: 2
        shard_retries: 5
        local_store: ../store
        staging_url: s3://stage/prefix
        max_shards: 64
        shard_size: 500
        mocks: fakes/mocks.json
        """.replace("        ", ""))
    assert options.schedule == "0 2 * * *"
    assert options.start_date == datetime(2024, 5, 1, 4, 30, tzinfo=timezone.utc)
    assert (options.catchup, options.tags, options.owner) == (True, ("etl", "orders"), "data-team")
    assert options.default_input == {"bucket": "b", "limit": 3}
    assert (options.oss_conn_id, options.aws_conn_id, options.pool) == ("oss_prod", "aws_prod", "cloudflow")
    assert (options.retries, options.shard_retries, options.max_shards, options.shard_size) == (2, 5, 64, 500)
    assert options.local_store == str((tmp_path.parent / "store").resolve())
    assert options.mocks == str((tmp_path / "fakes" / "mocks.json").resolve())
    assert options.staging_url == "s3://stage/prefix"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("start_date: 2024-01-02", datetime(2024, 1, 2, tzinfo=timezone.utc)),
        ("start_date: '2024-01-02 03:04:05'", datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),
        ("start_date: 2024-01-02T03:04:05Z", datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),
    ],
)
def test_start_dates_are_utc(tmp_path, text, expected):
    assert _options(tmp_path, text).start_date == expected


@pytest.mark.parametrize("schedule", ["@daily", "@once", "*/5 * * * *", "0 0 1 JAN MON"])
def test_cron_and_presets_are_accepted(tmp_path, schedule):
    assert _options(tmp_path, f"schedule: '{schedule}'").schedule == schedule


def test_unknown_keys_and_wrong_types_name_file_line_and_key_all_at_once(tmp_path):
    issues = _issues(tmp_path, "tags: etl\nretrys: 1\nretries: -1\ncatchup: 'yes'\nschedule: '@sometimes'\n"
                               "default_input: [1]\nmax_shards: 0\nstaging_url: http://x\nowner: null\n")
    side = tmp_path / "x.airflow.yaml"
    assert issues == [
        f"{side}:1:1: CF-E110 tags: expected a list of non-empty strings",
        f"{side}:2:1: CF-E112 unknown settings key 'retrys' (did you mean 'retries'?)",
        f"{side}:3:1: CF-E110 retries: expected an integer >= 0",
        f"{side}:4:1: CF-E110 catchup: expected true or false",
        f"{side}:5:1: CF-E110 schedule: unknown preset '@sometimes' (one of @annually, @continuous, @daily, "
        "@hourly, @monthly, @once, @quarterly, @weekly, @yearly)",
        f"{side}:6:1: CF-E110 default_input: expected a mapping (a JSON object)",
        f"{side}:7:1: CF-E110 max_shards: expected an integer >= 1",
        f"{side}:8:1: CF-E110 staging_url: expected an oss://, s3:// or file:// URL",
    ]


def test_booleans_are_not_integers_and_null_is_refused_where_a_value_is_required(tmp_path):
    issues = _issues(tmp_path, "retries: true\ntags: null\n")
    assert [i.split(": ", 1)[1] for i in issues] == [
        "CF-E110 retries: expected an integer",
        "CF-E110 tags: null is not allowed",
    ]


def test_yaml_problems_are_reported_with_their_position(tmp_path):
    issues = _issues(tmp_path, "a: 1\na: 2\n")
    assert issues == [f"{tmp_path / 'x.airflow.yaml'}:2:1: CF-E101 duplicate key 'a'"]
    assert _issues(tmp_path, "- just\n- a list\n")[0].endswith("CF-E110 a settings file must be a mapping of keys to values")


def test_unsafe_yaml_tags_are_rejected(tmp_path):
    issues = _issues(tmp_path, "owner: !!python/object/apply:os.system ['echo pwned']\n")
    assert "CF-E103" in issues[0]


def test_an_empty_sidecar_is_fine(tmp_path):
    assert _options(tmp_path, "# nothing yet\n").retries == 0


def test_folder_defaults_merge_key_by_key_closest_folder_first_sidecar_last(tmp_path):
    write(tmp_path, "cloudflow.defaults.yaml", "owner: root-team\nretries: 1\ntags: [root]\npool: p\n")
    write(tmp_path, "a/cloudflow.defaults.yaml", "retries: 2\ntags: [a]\nmocks: m.json\n")
    options = _options(tmp_path, "tags: [x]\npool: null\n", flow="a/b/x.flow.yaml", root=tmp_path)
    assert options.owner == "root-team"  # only the root sets it
    assert options.retries == 2  # closer folder beats the root
    assert options.tags == ("x",)  # the sidecar beats every folder
    assert options.pool is None  # null resets to the built-in default
    assert options.mocks == str((tmp_path / "a" / "m.json").resolve())  # relative to the file that set it


def test_folders_above_the_root_are_not_consulted(tmp_path):
    write(tmp_path, "cloudflow.defaults.yaml", "owner: outside\n")
    options = _options(tmp_path / "dags", flow="x.flow.yaml", root=tmp_path / "dags")
    assert options.owner is None


def test_errors_in_several_settings_files_are_all_reported(tmp_path):
    write(tmp_path, "cloudflow.defaults.yaml", "ownr: x\n")
    with pytest.raises(DefinitionError) as info:
        _options(tmp_path, "retries: x\n", root=tmp_path)
    assert [Path(i.file).name for i in info.value.issues] == ["cloudflow.defaults.yaml", "x.airflow.yaml"]


@pytest.mark.parametrize(
    "definition, sidecar",
    [("orders.flow.yaml", "orders.airflow.yaml"), ("orders.flow.yml", "orders.airflow.yaml"),
     ("machine.asl.json", "machine.airflow.yaml"), ("machine.asl.yaml", "machine.airflow.yaml")],
)
def test_the_sidecar_shares_the_definition_stem(tmp_path, definition, sidecar):
    write(tmp_path, sidecar, "retries: 1\n")
    assert sidecar_path(tmp_path / definition) == tmp_path / sidecar


def test_sidecar_yml_spelling_is_found_too(tmp_path):
    write(tmp_path, "x.airflow.yml", "retries: 4\n")
    assert _options(tmp_path).retries == 4


def test_an_input_schema_is_kept_and_a_bad_one_is_named_with_its_line(tmp_path):
    options = _options(tmp_path, "input_schema:\n  properties:\n    bucket: {type: string, description: where}\n")
    assert options.input_schema == {"properties": {"bucket": {"type": "string", "description": "where"}}}
    bad = _issues(tmp_path / "b", "retries: 1\ninput_schema:\n  properties:\n    n: {type: int}\n")
    assert len(bad) == 1 and ":2:1: CF-E110 input_schema: property 'n': unknown JSON Schema type 'int'" in bad[0]
    assert "type object" in _issues(tmp_path / "c", "input_schema: {type: array}\n")[0]
