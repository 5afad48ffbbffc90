"""The real components: the spike Map DAG under the scheduler, and a shard killed mid-run.

One cluster serves the module (starting it is the expensive part). Measured times are printed
(``-s``) for docs/airflow.md; nothing asserts on them.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from tests.providers.airflow_env import AirflowHome
from tests.providers.cluster import AirflowCluster, TaskInstanceInfo, read_pid
from tests.providers.spike_dags import SPIKE_MAP_DAG_ID, SPIKE_MAP_SOURCE

SLOW = 2  # the shard that sleeps on its first try and gets killed


@pytest.fixture(scope="module")
def cluster(airflow_home: AirflowHome) -> Iterator[AirflowCluster]:
    airflow_home.write_dag("spike_map.py", SPIKE_MAP_SOURCE)
    with AirflowCluster(airflow_home) as running:
        print(f"\ncluster healthy after {running.start_seconds:.1f} s")
        running.wait_for_dag(SPIKE_MAP_DAG_ID)
        running.unpause(SPIKE_MAP_DAG_ID)
        yield running


def test_scheduler_runs_mapped_shards_with_conf(cluster: AirflowCluster) -> None:
    started = time.monotonic()
    run_id = cluster.trigger(SPIKE_MAP_DAG_ID, conf={"multiplier": 3})

    assert cluster.wait_for_run(SPIKE_MAP_DAG_ID, run_id) == "success"
    print(f"\nspike run (7 TIs) took {time.monotonic() - started:.1f} s from trigger")
    shards = [ti for ti in cluster.task_instances(SPIKE_MAP_DAG_ID, run_id) if ti.task_id == "process"]
    assert [(ti.map_index, ti.state) for ti in shards] == [(i, "success") for i in range(5)]
    assert [ti.rendered_map_index for ti in shards] == [f"shard-{i}" for i in range(5)]
    collected = cluster.xcom(SPIKE_MAP_DAG_ID, run_id, "collect")
    assert collected["values"] == [sum(range(i * 10, i * 10 + 10)) * 3 for i in range(5)]
    assert collected["failed"] == 0


def _kill_slow_shard_and_watch(cluster: AirflowCluster, tmp_path, kill_supervisor: bool):
    """Trigger with a sleeping shard, SIGKILL it, and record its (state, try) transitions."""
    run_id = cluster.trigger(SPIKE_MAP_DAG_ID, conf={"slow_shard": SLOW, "pid_dir": str(tmp_path)})
    pid = cluster.wait_until(lambda: read_pid(tmp_path / f"{SLOW}.pid"), 180, "the slow shard to start")
    ti = cluster.task_instance(SPIKE_MAP_DAG_ID, run_id, "process", SLOW)
    procs = cluster.wait_until(lambda: cluster.task_processes(ti.id), 30, "the slow shard's processes")
    assert procs.task_pid == pid  # the process that runs the operator code
    assert ti.pid in (None, pid)  # the API reports the same task process once it has started

    killed_at = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    if kill_supervisor:
        os.kill(procs.supervisor_pid, signal.SIGKILL)
    transitions: list[tuple[float, str | None, int]] = []

    def retried_and_done() -> TaskInstanceInfo | None:
        now = cluster.task_instance(SPIKE_MAP_DAG_ID, run_id, "process", SLOW)
        if not transitions or transitions[-1][1:] != (now.state, now.try_number):
            transitions.append((round(time.monotonic() - killed_at, 1), now.state, now.try_number))
        return now if now.try_number == 2 and now.state == "success" else None

    cluster.wait_until(retried_and_done, 240, "the killed shard to be retried", interval=0.2)
    print(f"\nkill supervisor={kill_supervisor}: (seconds after kill, state, try) {transitions}")
    return run_id, transitions


def test_killed_task_process_is_retried_and_run_succeeds(cluster: AirflowCluster, tmp_path) -> None:
    run_id, transitions = _kill_slow_shard_and_watch(cluster, tmp_path, kill_supervisor=False)

    assert transitions[0][1:] == ("running", 1)
    assert any(state == "up_for_retry" for _, state, _ in transitions)
    assert cluster.wait_for_run(SPIKE_MAP_DAG_ID, run_id) == "success"
    assert cluster.xcom(SPIKE_MAP_DAG_ID, run_id, "collect")["values"] == [
        sum(range(i * 10, i * 10 + 10)) for i in range(5)
    ]


def test_killed_worker_is_detected_by_heartbeat_timeout_and_retried(cluster: AirflowCluster, tmp_path) -> None:
    run_id, transitions = _kill_slow_shard_and_watch(cluster, tmp_path, kill_supervisor=True)

    assert transitions[0][1:] == ("running", 1)
    assert transitions[-1][1:] == ("success", 2)
    assert cluster.wait_for_run(SPIKE_MAP_DAG_ID, run_id) == "success"
    assert len(cluster.xcom(SPIKE_MAP_DAG_ID, run_id, "collect")["values"]) == 5
