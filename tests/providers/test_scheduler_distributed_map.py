"""A distributed Map under the real Airflow components (api-server, dag-processor, scheduler,
triggerer; LocalExecutor; 127.0.0.1 only), reading a CSV from the OSS server and staging its shards
in OSS too.

Run 1: triggered with a conf; tolerated failures and a ResultWriter; run state, counts and result
objects are asserted. Run 2: one shard's task process is SIGKILLed mid-run; its retry completes and
every child result exists exactly once. Run 3: a Map whose called function fails on some items (a
local HTTP server stands for it) stops early and fails the run; the function is fixed, the run's
failed tasks are cleared through the REST API, and the redrive re-runs just those children.
"""

from __future__ import annotations

import json
import os
import signal
import textwrap
from collections.abc import Iterator

import pytest

from tests.providers.airflow_env import AirflowHome
from tests.providers.cluster import AirflowCluster
from tests.support.fixtures import oss_server  # noqa: F401  (session fixture)

DAG_ID = "orders_sched"
ROWS = 40
BAD = {7, 19, 33}  # rows whose amount is negative: their children fail (3 of 40 = 7.5 % <= 10 %)

FLOW = textwrap.dedent("""\
    Type: StateMachine
    Name: orders_sched
    SpecVersion: v1
    StartAt: Orders
    States:
      - Type: Map
        Name: Orders
        ProcessorConfig:
          ExecutionMode: Standard
        ItemReader:
          SourceType: OSS_CSV
          SourceParameters:
            Bucket.$: $Input.bucket
            ObjectName.$: $Input.object
        ItemConstructor:
          id.$: $Item.id
          amount.$: stringToJson($Item.amount)
          pause.$: $Input.pause
        MaxConcurrency: 2
        ToleratedFailurePercentage: 10
        Processor:
          StartAt: Slow
          States:
            - Type: Wait
              Name: Slow
              Seconds.$: $Input.pause
              Next: Check
            - Type: Choice
              Name: Check
              Branches:
                - Condition: $Input.amount < 0
                  Next: Reject
              Default: Accept
            - Type: Pass
              Name: Accept
              End: true
            - Type: Fail
              Name: Reject
              Code: NegativeAmount
              Detail: amount below zero
        ResultWriter:
          Parameters:
            Bucket: results
            Prefix: orders/
        End: true
    """)


REDRIVE_DAG = "orders_redrive"
REDRIVE_FLOW = textwrap.dedent("""\
    Type: StateMachine
    Name: orders_redrive
    SpecVersion: v1
    StartAt: Orders
    States:
      - Type: Map
        Name: Orders
        ProcessorConfig:
          ExecutionMode: Express
        ItemReader:
          SourceType: OSS_CSV
          SourceParameters:
            Bucket: data
            ObjectName: orders.csv
        ItemConstructor:
          id.$: $Item.id
          amount.$: stringToJson($Item.amount)
          url.$: $Input.url
        MaxConcurrency: 2
        Processor:
          StartAt: Charge
          States:
            - Type: Task
              Name: Charge
              Action: HTTP:Request
              Parameters:
                method: POST
                url.$: $Input.url
                body:
                  id.$: $Input.id
                  amount.$: $Input.amount
              OutputConstructor:
                id.$: $Input.id
                charged.$: $Output.Body.charged
              End: true
        ResultWriter:
          Parameters:
            Bucket: results
            Prefix: redrive/
        Next: Done
      - Type: Pass
        Name: Done
        InputConstructor:
          map.$: $Input
        End: true
    """)


@pytest.fixture(scope="module")
def charge_function():
    from tests.integrations.local_http import LocalHttpServer
    from tests.support.charge_function import ChargeFunction

    function = ChargeFunction()
    with LocalHttpServer(function) as server:
        function.url = server.url + "/charge"
        yield function


@pytest.fixture(scope="module")
def cluster(airflow_home: AirflowHome, oss_server) -> Iterator[AirflowCluster]:  # noqa: F811
    for bucket in ("data", "results", "staging"):
        oss_server.create_bucket(bucket)
    rows = ["id,amount"] + [f"r{i:02d},{-5 if i in BAD else i + 1}" for i in range(ROWS)]
    oss_server.put_object("data", "orders.csv", "\n".join(rows) + "\n")
    folder = airflow_home.dags_folder / "sched"
    folder.mkdir()
    (folder / "orders.flow.yaml").write_text(FLOW)
    (folder / "orders.airflow.yaml").write_text(json.dumps({
        "staging_url": "oss://staging/cloudflow", "shard_size": 10, "shard_retries": 2, "shard_retry_delay": 1,
        "default_input": {"bucket": "data", "object": "orders.csv", "pause": 0},
    }))
    (folder / "redrive.flow.yaml").write_text(REDRIVE_FLOW)
    (folder / "redrive.airflow.yaml").write_text(json.dumps({
        "staging_url": "oss://staging/cloudflow", "shard_size": 10, "shard_retry_delay": 1}))
    from airflow_cloudflow.loader_file import LOADER_SOURCE

    (folder / "cloudflow_dags.py").write_text(LOADER_SOURCE)
    os.environ.update(oss_server.env())  # the OSS connection, seen by every Airflow component
    with AirflowCluster(airflow_home) as running:
        for dag_id in (DAG_ID, REDRIVE_DAG):
            running.wait_for_dag(dag_id)
            running.unpause(dag_id)
        yield running
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def _results(oss_server, map_run: str) -> tuple[dict, list[dict], list[dict]]:  # noqa: F811
    store = oss_server.store()

    def read(key: str):
        with store.open("results", key) as stream:
            return json.loads(stream.read())

    manifest = read(f"orders/{map_run}/manifest.json")
    succeeded = [r for f in manifest["ResultFiles"]["SUCCEED"] for r in read(f["ObjectName"])]
    failed = [r for f in manifest["ResultFiles"]["FAILED"] for r in read(f["ObjectName"])]
    return manifest, succeeded, failed


def _finish_output(cluster: AirflowCluster, run_id: str) -> dict:
    return cluster.xcom(DAG_ID, run_id, "finish")


def test_distributed_map_under_the_scheduler(cluster: AirflowCluster, oss_server) -> None:  # noqa: F811
    run_id = cluster.trigger(DAG_ID, conf={"bucket": "data", "object": "orders.csv", "pause": 0})
    assert cluster.wait_for_run(DAG_ID, run_id, timeout=300) == "success", cluster.log_tails()

    shards = [ti for ti in cluster.task_instances(DAG_ID, run_id) if ti.task_id == "Orders__process"]
    # failures within the tolerance: the Map Run succeeded, every shard too
    assert [(ti.map_index, ti.state) for ti in shards] == [(i, "success") for i in range(4)]
    assert [ti.rendered_map_index for ti in shards] == [f"items {i * 10}-{i * 10 + 9}" for i in range(4)]
    output = _finish_output(cluster, run_id)
    map_run = output["MapRunName"]
    assert output["ResultWriterDetails"] == {"Bucket": "results", "Key": f"orders/{map_run}/manifest.json"}

    manifest, succeeded, failed = _results(oss_server, map_run)
    assert manifest["MapRunName"] == map_run and manifest["DestinationBucket"] == "results"
    assert len(succeeded) == ROWS - len(BAD) and len(failed) == len(BAD)
    assert sorted(json.loads(r["Input"])["id"] for r in failed) == [f"r{i:02d}" for i in sorted(BAD)]
    assert {json.loads(r["Output"])["ErrorCode"] for r in failed} == {"NegativeAmount"}


def test_a_shard_killed_mid_run_is_retried_without_duplicate_or_lost_results(
    cluster: AirflowCluster, oss_server  # noqa: F811
) -> None:
    run_id = cluster.trigger(DAG_ID, conf={"bucket": "data", "object": "orders.csv", "pause": 1})

    def running_shard():
        for ti in cluster.task_instances(DAG_ID, run_id):
            if ti.task_id == "Orders__process" and ti.map_index == 1 and ti.state == "running":
                return ti
        return None

    ti = cluster.wait_until(running_shard, 240, "shard 1 to run")
    procs = cluster.wait_until(lambda: cluster.task_processes(ti.id), 60, "shard 1's task process")
    staging = oss_server.store()

    from airflow_cloudflow.providers.runtime import execution_name

    run_prefix = f"cloudflow/{DAG_ID}/{execution_name(run_id)}/"

    def checkpointed():  # a part of this run's shard-1 child records is in the OSS staging area
        keys = [i.key for i in staging.list("staging", run_prefix)]
        return [k for k in keys if "/results/00001/part-" in k] or None

    cluster.wait_until(checkpointed, 120, "shard 1's first checkpoint")
    os.kill(procs.task_pid, signal.SIGKILL)

    assert cluster.wait_for_run(DAG_ID, run_id, timeout=300) == "success", cluster.log_tails()
    killed = cluster.task_instance(DAG_ID, run_id, "Orders__process", 1)
    assert killed.try_number == 2 and killed.state == "success"
    summary = cluster.xcom(DAG_ID, run_id, "Orders__process", map_index=1)
    assert 0 < summary["reused"] < 10  # the retry re-ran only the children without a result
    assert (summary["succeeded"], summary["failed"], summary["redrive"]) == (9, 1, 0)

    _, succeeded, failed = _results(oss_server, _finish_output(cluster, run_id)["MapRunName"])
    names = [r["ExecutionName"] for r in succeeded + failed]
    assert len(names) == ROWS and len(set(names)) == ROWS  # every child exactly once
    ids = sorted(json.loads(r["Input"])["id"] for r in succeeded + failed)
    assert ids == [f"r{i:02d}" for i in range(ROWS)]


def test_clearing_the_failed_tasks_redrives_only_the_failed_children(
    cluster: AirflowCluster, oss_server, charge_function  # noqa: F811
) -> None:
    """The function fails on the negative amounts: the Map Run stops early (no tolerance) and the
    run fails. The function is fixed; "Clear → only failed" through the REST API redrives the Map:
    the failed (and unstarted) children run again, once; every success of the first attempt is
    kept; the ResultWriter output is rewritten for the whole Map Run and the flow continues."""
    run_id = cluster.trigger(REDRIVE_DAG, conf={"url": charge_function.url})
    assert cluster.wait_for_run(REDRIVE_DAG, run_id, timeout=300) == "failed", cluster.log_tails()
    first_calls = dict(charge_function.calls)
    assert first_calls and len(first_calls) < ROWS  # stopped early: some children never started
    shards = {ti.map_index: ti.state for ti in cluster.task_instances(REDRIVE_DAG, run_id)
              if ti.task_id == "Orders__process"}
    assert "failed" in shards.values()
    assert cluster.task_instance(REDRIVE_DAG, run_id, "Orders__results").state == "failed"

    charge_function.fixed = True
    cluster.api("POST", f"/dags/{REDRIVE_DAG}/clearTaskInstances",
                json={"dry_run": False, "only_failed": True, "dag_run_id": run_id})
    assert cluster.wait_for_run(REDRIVE_DAG, run_id, timeout=300) == "success", cluster.log_tails()

    output = cluster.xcom(REDRIVE_DAG, run_id, "finish")
    map_run = output["map"]["MapRunName"]  # the flow went on after the Map, as usual
    store = oss_server.store()

    def read(key: str):
        with store.open("results", key) as stream:
            return json.loads(stream.read())

    manifest = read(f"redrive/{map_run}/manifest.json")
    assert manifest["ResultFiles"]["FAILED"] == []
    succeeded = [r for f in manifest["ResultFiles"]["SUCCEED"] for r in read(f["ObjectName"])]
    ids = [json.loads(r["Input"])["id"] for r in succeeded]
    assert sorted(ids) == [f"r{i:02d}" for i in range(ROWS)]  # every item: exactly one success
    failed_first = {i for i in first_calls if i in {f"r{b:02d}" for b in BAD}}
    assert failed_first  # the first attempt did fail on a negative amount
    for order, calls in charge_function.calls.items():
        first = first_calls.get(order, 0)
        if order in failed_first:
            assert calls == first + 1, order  # ran again exactly once
        elif first:
            assert calls == first, order  # a success is kept, never re-run
        else:
            assert calls == 1, order  # never started before the stop: runs once in the redrive
    redriven = [cluster.xcom(REDRIVE_DAG, run_id, "Orders__process", map_index=i) for i, s in shards.items()
                if s == "failed"]
    assert {r["redrive"] for r in redriven} == {1}
