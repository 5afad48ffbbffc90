"""dag.test() harness: the spike Map DAG runs in-process against the session's SQLite DB."""

from __future__ import annotations

import pytest

from tests.providers.airflow_env import AirflowHome
from tests.providers.dag_runs import run_dag_test
from tests.providers.spike_dags import SPIKE_MAP_DAG_ID, SPIKE_MAP_SOURCE


@pytest.fixture(scope="module")
def spike_home(airflow_home: AirflowHome) -> AirflowHome:
    airflow_home.write_dag("spike_map.py", SPIKE_MAP_SOURCE)
    return airflow_home


def test_mapped_shards_run_and_collector_pulls_their_xcoms(spike_home: AirflowHome) -> None:
    result = run_dag_test(SPIKE_MAP_DAG_ID, conf={"multiplier": 2})

    assert result.state == "success"
    assert result.states_of("process") == ["success"] * 5
    assert result.xcoms_of("process") == [sum(range(i * 10, i * 10 + 10)) * 2 for i in range(5)]
    collected = result.xcoms_of("collect")[0]
    assert collected["values"] == result.xcoms_of("process")
    assert collected["total"] == sum(range(50)) * 2
    assert collected["failed"] == 0


def test_all_done_leaf_makes_run_succeed_despite_a_failed_shard(spike_home: AirflowHome) -> None:
    result = run_dag_test(SPIKE_MAP_DAG_ID, conf={"shards": 3, "fail_shard": 1})

    assert result.task_states[("process", 1)] == "failed"
    assert result.try_numbers[("process", 1)] == 2  # retries=1: tried twice
    assert result.task_states[("collect", -1)] == "success"
    collected = result.xcoms_of("collect")[0]
    assert collected["values"] == [sum(range(10)), sum(range(20, 30))]  # only successful shards
    assert collected["failed"] == 1
    assert result.state == "success"  # the leaf decides: the tolerance task must raise itself
