"""Assets of flow tasks under ``dag.test()``: inlets/outlets from the definition, asset events of
run-time locations (through the task's ``AssetAlias``), the ResultWriter's event with its manifest,
asset schedules. (The real scheduler: ``test_assets_scheduler.py``; lineage: ``test_lineage.py``.)"""

from __future__ import annotations

import json
import shutil
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_cloudflow.dialects import load_definition_text
from airflow_cloudflow.providers.asset_schedule import parse_asset_schedule
from airflow_cloudflow.providers.options import DagOptions
from tests.providers.dag_runs import run_dag_test

FLOW = textwrap.dedent("""\
    Type: StateMachine
    Name: {name}
    SpecVersion: v1
    StartAt: Upload
    States:
      - Type: Task
        Name: Upload
        Action: OSS:PutObject
        Parameters:
          bucket: data
          key.$: $Input.key
          body: "id\\nr1\\nr2\\n"
        Next: Orders
      - Type: Map
        Name: Orders
        ProcessorConfig: {{ExecutionMode: Express}}
        ItemReader:
          SourceType: OSS_CSV
          SourceParameters:
            Bucket: data
            ObjectName.$: $Input.key
        Processor:
          StartAt: Mark
          States:
            - Type: Task
              Name: Mark
              Action: OSS:PutObject
              Parameters: {{bucket: data, key.$: $Input.id, body: seen}}
              End: true
        ResultWriter:
          Parameters: {{Bucket: results, Prefix: out/}}
        End: true
    """)
"""Upload writes the CSV the Map reads (key from the input); each child writes one object (key from
its item); the ResultWriter writes under a literal prefix."""


@pytest.fixture()
def flow(airflow_home, tmp_path) -> Iterator[str]:
    from airflow_cloudflow.loader_file import LOADER_SOURCE

    name = f"assets_{uuid.uuid4().hex[:8]}"
    folder = airflow_home.dags_folder / name
    folder.mkdir()
    store = tmp_path / "store"
    for bucket in ("data", "results"):
        (store / bucket).mkdir(parents=True)
    (folder / "cloudflow_dags.py").write_text(LOADER_SOURCE)
    (folder / f"{name}.flow.yaml").write_text(FLOW.format(name=name))
    (folder / f"{name}.airflow.yaml").write_text(json.dumps({
        "local_store": str(store), "staging_url": (tmp_path / "staging").as_uri()}))
    yield name
    shutil.rmtree(folder, ignore_errors=True)


ASL = {
    "StartAt": "Upload",
    "States": {
        "Upload": {"Type": "Task", "Resource": "arn:aws:states:::s3:putObject",
                   "Parameters": {"Bucket": "data", "Key.$": "$.key", "Body": "[1, 2, 3]"},
                   "ResultPath": None, "Next": "Orders"},
        "Orders": {
            "Type": "Map",
            "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
                           "Parameters": {"Bucket": "data", "Key.$": "$.key"}},
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                              "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
            "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                             "Parameters": {"Bucket": "results", "Prefix": "asl"}},
            "End": True,
        },
    },
}


def _events(dag_id: str) -> list[tuple[str, str, dict]]:
    from sqlalchemy import select

    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.execute(
            select(AssetEvent.source_task_id, AssetModel.uri, AssetEvent.extra)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetEvent.source_dag_id == dag_id).order_by(AssetEvent.id)).all()
    return [(task, uri, extra) for task, uri, extra in rows]


def test_written_locations_become_asset_events_with_the_result_manifest(flow: str) -> None:
    result = run_dag_test(flow, conf={"key": "in/today.csv"})

    assert result.state == "success"
    manifest = result.xcoms_of("finish")[0]["ResultWriterDetails"]["Key"]
    events = _events(flow)
    assert events[0] == ("Upload", "oss://data/in/today.csv", {"state": "Upload"})  # known at run time: alias
    assert sorted(events[1:3]) == [("Orders__process", f"oss://data/{key}", {"state": "Orders"}) for key in ("r1", "r2")]
    assert events[3:] == [("Orders__results", "oss://results/out", {"state": "Orders", "manifest": manifest})]


def test_a_step_functions_machine_emits_s3_asset_events(flow: str, airflow_home) -> None:
    folder = airflow_home.dags_folder / flow
    name = f"{flow}_asl"
    (folder / f"{name}.asl.json").write_text(json.dumps(ASL))
    (folder / f"{name}.airflow.yaml").write_text((folder / f"{flow}.airflow.yaml").read_text())
    dag_id = name  # an ASL machine's DAG id is its file's name
    result = run_dag_test(dag_id, conf={"key": "in/items.json"})

    assert result.state == "success"
    manifest = result.xcoms_of("finish")[0]["ResultWriterDetails"]["Key"]
    assert manifest.startswith("asl/") and manifest.endswith("/manifest.json")
    assert _events(dag_id) == [
        ("Upload", "s3://data/in/items.json", {"state": "Upload"}),
        ("Orders__results", "s3://results/asl", {"state": "Orders", "manifest": manifest}),
    ]


def test_inlets_outlets_and_an_asset_schedule_on_the_built_dag() -> None:
    from airflow.sdk import Asset, AssetAlias, AssetAny

    from airflow_cloudflow.providers.builder import build_dag

    machine = load_definition_text(FLOW.format(name="built_assets").replace("ObjectName.$: $Input.key",
                                                                            "ObjectName: in/fixed.csv"), "x.flow.yaml")
    schedule = parse_asset_schedule({"any": ["oss://data/in/fixed.csv", "s3://other/feed/"]})
    dag = build_dag(machine, DagOptions(schedule=schedule))
    tasks = {t.task_id: t for t in dag.tasks}

    assert tasks["Upload"].outlets == [AssetAlias(name="cloudflow/built_assets/Upload")] and tasks["Upload"].inlets == []
    assert tasks["Orders"].inlets == [Asset("oss://data/in/fixed.csv")]
    assert tasks["Orders__process"].outlets == [AssetAlias(name="cloudflow/built_assets/Orders__process")]
    assert tasks["Orders__results"].outlets == [Asset("oss://results/out")]
    assert dag.timetable.asset_condition == AssetAny(Asset("oss://data/in/fixed.csv"), Asset("s3://other/feed"))
