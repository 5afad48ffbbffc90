"""The distributed Map under the CeleryExecutor, its two workers set up as separate machines.

One module-scoped ``CeleryCluster`` (PostgreSQL + Redis + api-server, scheduler, dag-processor,
triggerer, and two ``airflow celery worker``s, each with its own home, TMPDIR and copy of the DAGs
folder; see ``celery_cluster.py``). The input CSV, the staging area and the ResultWriter output all
live on the OSS test server: nothing but object storage and the DB connects the workers.

1. The example flow ``dags/examples/orders_map.flow.yaml`` over 100,000 generated orders (every
   50th has amount -1 and fails): exactly 98,000 succeed and 2,000 fail, each child once, and the
   shards ran on both workers.
2. A slow copy of that flow (a 2 s Wait per child, 60 valid orders): once a shard on one worker
   has checkpointed its first part, that worker's whole process group is SIGKILLed. The run still
   succeeds, the shard is retried on the other worker, and every child's result is there exactly
   once. It runs last; a replacement worker is started at its end.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.providers.celery_cluster import CeleryCluster
from tests.providers.cluster import TaskInstanceInfo
from tests.support.fixtures import oss_server  # noqa: F401  (session fixture)

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_FLOW = REPO_ROOT / "dags" / "examples" / "orders_map.flow.yaml"
BUCKET = "demo-bucket"
STAGING_BUCKET = "staging"
STAGING_PREFIX = "celery"

DAG_ID = "orders_map"
ROWS = 100_000
SHARD_SIZE = 12_500  # set in the sidecar: 8 shards for 4 worker slots
PROCESS_TASK = "ProcessOrders__process"

SLOW_DAG_ID = "orders_map_slow"
SLOW_ROWS = 60
SLOW_SHARD_SIZE = 15  # 4 shards of 15 children, 2 s each: a checkpoint every 2 s leaves ~25 s to kill
KILL_DEADLINE = 240.0  # seconds from the SIGKILL to the run's success


def order_rows(rows: int, *, bad: bool = True) -> str:
    """The demo's CSV (``scripts/demo.py``): every 50th order has amount -1 (unless ``bad=False``)."""
    lines = ["order_id,amount"]
    lines += [f"order-{i:06d},{'-1' if bad and i % 50 == 49 else f'{(i % 97) + 1}.50'}" for i in range(rows)]
    return "\n".join(lines) + "\n"


def bad_orders(rows: int) -> list[str]:
    return [f"order-{i:06d}" for i in range(rows) if i % 50 == 49]


def slow_flow(text: str) -> str:
    """The example flow renamed, each child first waiting 2 s (so a shard runs long enough to be killed)."""
    replacements = [
        ("Name: orders_map\n", f"Name: {SLOW_DAG_ID}\n"),
        ("      StartAt: CheckAmount\n      States:\n",
         "      StartAt: Pause\n      States:\n"
         "        - Type: Wait\n          Name: Pause\n          Seconds: 2\n          Next: CheckAmount\n"),
    ]
    for old, new in replacements:
        assert text.count(old) == 1, f"the example flow changed: {old!r} not found once"
        text = text.replace(old, new)
    return text


def sidecar(obj: str, shard_size: int) -> str:
    return json.dumps({
        "staging_url": f"oss://{STAGING_BUCKET}/{STAGING_PREFIX}",
        "shard_size": shard_size,
        "shard_retries": 2,
        "shard_retry_delay": 1,
        "tags": ["cloudflow", "celery-test"],
        "default_input": {"bucket": BUCKET, "object": obj, "currency": "EUR"},
    })


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, oss_server) -> Iterator[CeleryCluster]:  # noqa: F811
    for bucket in (BUCKET, STAGING_BUCKET):
        oss_server.create_bucket(bucket)
    oss_server.put_object(BUCKET, "orders.csv", order_rows(ROWS))
    oss_server.put_object(BUCKET, "orders-slow.csv", order_rows(SLOW_ROWS, bad=False))

    from airflow_cloudflow.loader_file import LOADER_SOURCE

    dags = tmp_path_factory.mktemp("celery-dags")
    flow = EXAMPLE_FLOW.read_text()
    (dags / "cloudflow_dags.py").write_text(LOADER_SOURCE)
    (dags / "orders_map.flow.yaml").write_text(flow)
    (dags / "orders_map.airflow.yaml").write_text(sidecar("orders.csv", SHARD_SIZE))
    (dags / "orders_map_slow.flow.yaml").write_text(slow_flow(flow))
    (dags / "orders_map_slow.airflow.yaml").write_text(sidecar("orders-slow.csv", SLOW_SHARD_SIZE))

    work_dir = tmp_path_factory.mktemp("celery-cluster")
    with CeleryCluster(work_dir, env=oss_server.env(), workers=2, concurrency=2, dags=dags) as running:
        print(f"Celery cluster start-up: {running.timings}")
        for dag_id in (DAG_ID, SLOW_DAG_ID):
            running.wait_for_dag(dag_id)
            running.unpause(dag_id)
        yield running


def _results(oss_server, manifest_key: str) -> tuple[dict, list[dict], list[dict]]:  # noqa: F811
    store = oss_server.store()

    def read(key: str):
        with store.open(BUCKET, key) as stream:
            return json.loads(stream.read())

    manifest = read(manifest_key)
    succeeded = [r for f in manifest["ResultFiles"].get("SUCCEED", []) for r in read(f["ObjectName"])]
    failed = [r for f in manifest["ResultFiles"].get("FAILED", []) for r in read(f["ObjectName"])]
    return manifest, succeeded, failed


def _shards(cluster: CeleryCluster, dag_id: str, run_id: str) -> list[TaskInstanceInfo]:
    return [ti for ti in cluster.task_instances(dag_id, run_id) if ti.task_id == PROCESS_TASK]


def test_workers_share_no_directory_and_nothing_listens_beyond_loopback(cluster: CeleryCluster) -> None:
    """Each worker runs with its own AIRFLOW_HOME, DAGs folder, TMPDIR and HOME, none of them inside
    another worker's or the control plane's directory; every socket is on 127.0.0.1 and the
    workers serve no logs. (The 100k test checks that task logs land in the running worker's home.)"""
    places = {"control": cluster.home.root}
    for name in cluster.live_workers():
        worker = cluster.workers[name]
        environ = worker.env  # /proc/<pid>/environ is overwritten by Celery's setproctitle
        assert environ["AIRFLOW_HOME"] == str(worker.home.root)
        assert environ["AIRFLOW__CORE__DAGS_FOLDER"] == str(worker.home.dags_folder)
        assert environ["TMPDIR"] == str(worker.tmp_dir) and environ["HOME"] == str(worker.root)
        assert environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == cluster.postgres.url
        assert environ["AIRFLOW__CELERY__BROKER_URL"] == cluster.redis.url
        assert (worker.home.dags_folder / "orders_map.flow.yaml").read_text() == EXAMPLE_FLOW.read_text()
        places[name] = worker.root
    for a, root_a in places.items():
        for b, root_b in places.items():
            if a != b:
                assert not root_a.is_relative_to(root_b), f"{a} lives inside {b}"

    sockets = cluster.listening_sockets()
    assert sockets["api-server"] == [("127.0.0.1", cluster.port)]
    assert sockets["redis"] == [("127.0.0.1", cluster.redis.port)]
    assert ("127.0.0.1", cluster.postgres.port) in sockets["postgres"]
    for name in cluster.live_workers():
        assert sockets[name] == [], f"{name} listens on {sockets[name]}"  # --skip-serve-logs
    assert {ip for addresses in sockets.values() for ip, _ in addresses} == {"127.0.0.1"}, sockets


def test_the_demo_map_at_100k_items_gives_exact_counts_across_two_workers(
    cluster: CeleryCluster, oss_server  # noqa: F811
) -> None:
    started = time.monotonic()
    run_id = cluster.trigger(DAG_ID)  # the sidecar's default_input: demo-bucket/orders.csv
    assert cluster.wait_for_run(DAG_ID, run_id, timeout=420) == "success", cluster.log_tails()
    print(f"100k-item Map under Celery: {time.monotonic() - started:.1f} s from trigger to success")

    shards = _shards(cluster, DAG_ID, run_id)
    assert [ti.map_index for ti in shards] == list(range(ROWS // SHARD_SIZE))
    # every shard holds failed children; whether that paints the shard red is the product's call
    assert {ti.state for ti in shards} <= {"success", "failed"}, shards
    assert {ti.hostname for ti in shards} == {"worker-1", "worker-2"}  # both workers ran shards
    homes = {name: w.home.root for name, w in cluster.workers.items()} | {"control": cluster.home.root}
    for ti in shards:  # each shard's task log is in the home of the worker that ran it, only there
        log = f"dag_id={DAG_ID}/run_id=*/task_id={PROCESS_TASK}/map_index={ti.map_index}/attempt=1.log"
        found = {name for name, root in homes.items() if list((root / "logs").glob(log))}
        assert found == {ti.hostname}, (ti, found)
    summaries = [cluster.xcom(DAG_ID, run_id, PROCESS_TASK, map_index=ti.map_index) for ti in shards]
    assert sum(s["succeeded"] for s in summaries) == ROWS - ROWS // 50
    assert sum(s["failed"] for s in summaries) == ROWS // 50
    assert all(s["reused"] == 0 for s in summaries)

    output = cluster.xcom(DAG_ID, run_id, "finish")
    map_run = output["MapRunName"]
    assert output["ResultWriterDetails"] == {"Bucket": BUCKET, "Key": f"results/{map_run}/manifest.json"}
    manifest, succeeded, failed = _results(oss_server, output["ResultWriterDetails"]["Key"])
    assert manifest["MapRunName"] == map_run
    assert len(succeeded) == 98_000 and len(failed) == 2_000
    names = [r["ExecutionName"] for r in succeeded + failed]
    assert len(set(names)) == ROWS  # every child exactly once
    assert sorted(json.loads(r["Input"])["order"] for r in failed) == bad_orders(ROWS)
    assert {json.loads(r["Output"])["ErrorCode"] for r in failed} == {"InvalidOrder"}
    assert sorted(json.loads(r["Input"])["order"] for r in succeeded + failed) == [
        f"order-{i:06d}" for i in range(ROWS)
    ]


def test_a_worker_killed_mid_shard_loses_no_result_and_its_shard_finishes_on_the_other(
    cluster: CeleryCluster, oss_server  # noqa: F811
) -> None:
    from airflow_cloudflow.providers.runtime import execution_name

    run_id = cluster.trigger(SLOW_DAG_ID)
    staging = oss_server.store()
    run_prefix = f"{STAGING_PREFIX}/{SLOW_DAG_ID}/{execution_name(run_id)}/"

    def checkpointed_shard() -> TaskInstanceInfo | None:
        """A shard running on a worker whose first checkpoint part is in the OSS staging area."""
        running = [ti for ti in _shards(cluster, SLOW_DAG_ID, run_id)
                   if ti.state == "running" and ti.hostname in cluster.live_workers()]
        if not running:
            return None
        keys = [info.key for info in staging.list(STAGING_BUCKET, run_prefix)]
        for ti in running:
            if any(f"/results/{ti.map_index:05d}/part-" in key for key in keys):
                return ti
        return None

    victim = cluster.wait_until(checkpointed_shard, 180, "a shard's first checkpoint on a worker")
    killed_worker = victim.hostname
    survivor = next(name for name in cluster.live_workers() if name != killed_worker)
    family = cluster.worker_pids(killed_worker)
    assert len(family) >= 3  # the Celery main process, its pool processes, the task's processes
    killed = cluster.kill_worker(killed_worker)
    killed_at = time.monotonic()
    assert set(family) <= set(killed)
    assert not [pid for pid in killed if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]

    state = cluster.wait_for_run(SLOW_DAG_ID, run_id, timeout=KILL_DEADLINE)
    recovered_in = time.monotonic() - killed_at
    print(f"killed {killed_worker} ({len(killed)} processes) mid-shard {victim.map_index}; "
          f"run {state} {recovered_in:.1f} s later")
    assert state == "success", cluster.log_tails()
    assert recovered_in <= KILL_DEADLINE

    retried = cluster.task_instance(SLOW_DAG_ID, run_id, PROCESS_TASK, victim.map_index)
    assert retried.state == "success" and retried.try_number >= 2
    assert retried.hostname == survivor
    tries = cluster.task_instance_tries(SLOW_DAG_ID, run_id, PROCESS_TASK, victim.map_index)
    assert tries[0]["hostname"] == killed_worker and tries[0]["state"] != "success"
    assert tries[-1]["hostname"] == survivor and tries[-1]["state"] == "success"
    summary = cluster.xcom(SLOW_DAG_ID, run_id, PROCESS_TASK, map_index=victim.map_index)
    assert 0 < summary["reused"] < SLOW_SHARD_SIZE  # the retry re-ran only children without a result
    assert summary["succeeded"] + summary["failed"] == SLOW_SHARD_SIZE
    shards = _shards(cluster, SLOW_DAG_ID, run_id)
    assert [ti.state for ti in shards] == ["success"] * (SLOW_ROWS // SLOW_SHARD_SIZE)
    assert {ti.hostname for ti in shards} == {survivor}  # the killed worker's shards all moved over

    output = cluster.xcom(SLOW_DAG_ID, run_id, "finish")
    _, succeeded, failed = _results(oss_server, output["ResultWriterDetails"]["Key"])
    names = [r["ExecutionName"] for r in succeeded + failed]
    assert len(names) == SLOW_ROWS and len(set(names)) == SLOW_ROWS  # every child exactly once
    orders = sorted(json.loads(r["Input"])["order"] for r in succeeded + failed)
    assert orders == [f"order-{i:06d}" for i in range(SLOW_ROWS)]
    assert failed == []

    replacement = cluster.start_worker()  # a fresh machine takes the killed one's place
    assert replacement.name == "worker-3"
    assert sorted(cluster.live_workers()) == sorted([survivor, "worker-3"])
