"""Assets under the real Airflow components (api-server, dag-processor, scheduler, triggerer;
LocalExecutor; the OSS bridge): a producer flow writes an object whose key only its run knows
(``OSS:PutObject`` with ``key.$``); its task emits the asset event through its ``AssetAlias``; the
consumer flow, whose sidecar schedules it on that object (``schedule: oss://…``), runs by itself,
gets the triggering event in its input, reads the new object with a distributed Map and writes its
results, an event of the ResultWriter's asset carrying the Map Run's manifest."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from collections.abc import Iterator

import pytest

from tests.providers.airflow_env import AirflowHome
from tests.providers.cluster import AirflowCluster
from tests.support.fixtures import oss_server  # noqa: F401  (session fixture)

PRODUCER = "asset_producer"
CONSUMER = "asset_consumer"
OBJECT = "incoming/orders.csv"

PRODUCER_FLOW = textwrap.dedent("""\
    Type: StateMachine
    Name: asset_producer
    SpecVersion: v1
    StartAt: Upload
    States:
      - Type: Task
        Name: Upload
        Action: OSS:PutObject
        Parameters:
          bucket: data
          key.$: $Input.key
          body.$: $Input.body
        End: true
    """)

CONSUMER_FLOW = textwrap.dedent("""\
    Type: StateMachine
    Name: asset_consumer
    SpecVersion: v1
    StartAt: Inspect
    States:
      - Type: Pass
        Name: Inspect
        OutputConstructor:
          bucket.$: $Input.bucket
          object.$: $Input.object
          events.$: $Input.TriggeringAssetEvents
        Next: Orders
      - Type: Map
        Name: Orders
        ProcessorConfig:
          ExecutionMode: Express
        ItemReader:
          SourceType: OSS_CSV
          SourceParameters:
            Bucket.$: $Input.bucket
            ObjectName.$: $Input.object
        Processor:
          StartAt: Accept
          States:
            - Type: Pass
              Name: Accept
              End: true
        ResultWriter:
          Parameters:
            Bucket: results
            Prefix: consumer/
        End: true
    """)


@pytest.fixture(scope="module")
def cluster(airflow_home: AirflowHome, oss_server) -> Iterator[AirflowCluster]:  # noqa: F811
    for bucket in ("data", "results", "staging"):
        oss_server.create_bucket(bucket)
    folder = airflow_home.dags_folder / "assets"
    folder.mkdir()
    (folder / "producer.flow.yaml").write_text(PRODUCER_FLOW)
    (folder / "consumer.flow.yaml").write_text(CONSUMER_FLOW)
    (folder / "consumer.airflow.yaml").write_text(json.dumps({
        "schedule": f"oss://data/{OBJECT}", "staging_url": "oss://staging/cloudflow",
        "default_input": {"bucket": "data", "object": OBJECT},
    }))
    from airflow_cloudflow.loader_file import LOADER_SOURCE

    (folder / "cloudflow_dags.py").write_text(LOADER_SOURCE)
    os.environ.update(oss_server.env())
    with AirflowCluster(airflow_home) as running:
        for dag_id in (PRODUCER, CONSUMER):
            running.wait_for_dag(dag_id)
            running.unpause(dag_id)
        yield running
    shutil.rmtree(folder, ignore_errors=True)


def test_a_flow_scheduled_on_an_asset_runs_when_a_producer_updates_it(
    cluster: AirflowCluster, oss_server  # noqa: F811
) -> None:
    consumer = cluster.api("GET", f"/dags/{CONSUMER}/details")
    assert "oss://data/incoming/orders.csv" in json.dumps(consumer["asset_expression"])
    assert cluster.api("GET", f"/dags/{CONSUMER}/dagRuns")["total_entries"] == 0  # nothing ran yet

    rows = "id,amount\nr1,1\nr2,2\nr3,3\n"
    run_id = cluster.trigger(PRODUCER, conf={"key": OBJECT, "body": rows})
    assert cluster.wait_for_run(PRODUCER, run_id, timeout=240) == "success", cluster.log_tails()

    def consumer_run():
        runs = cluster.api("GET", f"/dags/{CONSUMER}/dagRuns")["dag_runs"]
        return runs[0] if runs else None

    run = cluster.wait_until(consumer_run, 180, "the consumer flow to be triggered by the asset")
    assert run["run_type"] == "asset_triggered"
    assert cluster.wait_for_run(CONSUMER, run["dag_run_id"], timeout=300) == "success", cluster.log_tails()

    given = cluster.xcom(CONSUMER, run["dag_run_id"], "Inspect")["output"]
    assert (given["bucket"], given["object"]) == ("data", OBJECT)
    [event] = given["events"]
    assert event["Uri"] == f"oss://data/{OBJECT}"
    assert (event["SourceDagId"], event["SourceRunId"], event["SourceTaskId"]) == (PRODUCER, run_id, "Upload")
    assert event["Extra"] == {"state": "Upload"}

    output = cluster.xcom(CONSUMER, run["dag_run_id"], "finish")
    manifest_key = output["ResultWriterDetails"]["Key"]
    with oss_server.store().open("results", manifest_key) as stream:
        manifest = json.loads(stream.read())
    succeeded = [r for f in manifest["ResultFiles"]["SUCCEED"] for r in _read(oss_server, f["ObjectName"])]
    assert sorted(json.loads(r["Input"])["id"] for r in succeeded) == ["r1", "r2", "r3"]  # the new object

    events = cluster.api("GET", "/assets/events", params={"source_dag_id": CONSUMER})["asset_events"]
    assert [(e["uri"], e["extra"]) for e in events] == [
        ("oss://results/consumer", {"state": "Orders", "manifest": manifest_key})]


def _read(oss_server, key: str):  # noqa: F811
    with oss_server.store().open("results", key) as stream:
        return json.loads(stream.read())
