"""How many shards can run at once, the fail-fast staging check, and both in a real dag.test() run."""

from __future__ import annotations

import shutil
import textwrap
import uuid
from pathlib import Path

import pytest

from airflow_cloudflow.dialects import load_definition_text
from airflow_cloudflow.providers.options import DagOptions

MAP_FLOW = textwrap.dedent("""\
    Type: StateMachine
    Name: {name}
    SpecVersion: v1
    StartAt: M
    States:
      - Type: Map
        Name: M
        ProcessorConfig:
          ExecutionMode: Express
        ItemsPath: $Input.items
        MaxConcurrency: {concurrency}
        Processor:
          StartAt: P
          States:
            - Type: Pass
              Name: P
              End: true
        ResultWriter:
          Parameters:
            Bucket: out
            Prefix: r/
        End: true
    """)


def map_state(concurrency: int = 40):
    return load_definition_text(MAP_FLOW.format(name="m", concurrency=concurrency), "m.flow.yaml").graph["M"]


@pytest.fixture
def fresh_settings(monkeypatch):
    from airflow_cloudflow.providers import config

    config.settings.cache_clear()
    yield monkeypatch
    config.settings.cache_clear()


def test_local_executor_shards_are_bounded_by_the_host_cpus(fresh_settings):
    from airflow_cloudflow.providers import shard_slots

    fresh_settings.setenv("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    fresh_settings.setenv("AIRFLOW__CORE__PARALLELISM", "32")  # the test home sets 4
    fresh_settings.setattr(shard_slots, "host_cpus", lambda: 3)
    limits = shard_slots.parallel_limits(map_state(), DagOptions())
    assert limits["LocalExecutor: host CPUs"] == 3 and limits["MaxConcurrency"] == 16
    plan_for, _ = shard_slots.shard_planner(map_state(), DagOptions())
    assert plan_for(1_000_000).count == 3
    assert plan_for(1_000).count == 1  # 50 ms of work cannot pay a second fixed cost


def test_celery_uses_worker_concurrency_and_the_override_wins(fresh_settings):
    from airflow_cloudflow.providers import shard_slots

    fresh_settings.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    fresh_settings.setenv("AIRFLOW__CELERY__WORKER_CONCURRENCY", "6")
    fresh_settings.setenv("AIRFLOW__CORE__PARALLELISM", "32")  # the test home sets 4
    assert min(shard_slots.parallel_limits(map_state(), DagOptions()).values()) == 6
    assert shard_slots.parallel_limits(map_state(4), DagOptions())["MaxConcurrency"] == 4
    fresh_settings.setenv("AIRFLOW__CLOUDFLOW__SHARD_PARALLELISM", "12")
    from airflow_cloudflow.providers import config

    config.settings.cache_clear()
    assert shard_slots.parallel_limits(map_state(), DagOptions()) == {"shard_parallelism": 12, "MaxConcurrency": 16}
    assert shard_slots.parallel_limits(map_state(), DagOptions(shard_parallelism=2))["shard_parallelism"] == 2
    plan_for, _ = shard_slots.shard_planner(map_state(), DagOptions(shard_size=10))
    assert plan_for(95).count == 10  # the sidecar's shard_size replaces the plan


@pytest.mark.parametrize("executor, staging, refused", [
    ("CeleryExecutor", None, True),
    ("airflow.providers.celery.executors.celery_executor.CeleryExecutor", None, True),
    ("KubernetesExecutor", None, True),
    ("CeleryExecutor", "s3://bucket/staging", False),
    ("LocalExecutor", None, False),
])
def test_local_staging_default_with_workers_that_share_no_disk_is_refused(fresh_settings, executor, staging, refused):
    from airflow_cloudflow.providers.runtime import StagingNotShared, check_staging_shared

    fresh_settings.setenv("AIRFLOW__CORE__EXECUTOR", executor)
    fresh_settings.delenv("AIRFLOW__CLOUDFLOW__STAGING_URL", raising=False)
    options = DagOptions(staging_url=staging)
    if refused:
        with pytest.raises(StagingNotShared, match=r"\[cloudflow\] staging_url"):
            check_staging_shared(options)
    else:
        check_staging_shared(options)
    fresh_settings.setenv("AIRFLOW__CLOUDFLOW__STAGING_URL", "oss://b/p")
    check_staging_shared(DagOptions())  # configured in airflow.cfg / the environment: fine


def test_the_item_reader_task_fails_fast_naming_staging_url(airflow_home, tmp_path, fresh_settings):
    """A DAG run under a (configured) CeleryExecutor with the local staging default: the ItemReader
    task fails before reading anything, the ResultWriter and the run fail with the reason."""
    from airflow.configuration import conf

    from airflow_cloudflow.loader_file import LOADER_SOURCE
    from tests.providers.dag_runs import run_dag_test

    name = "staging_" + uuid.uuid4().hex[:6]
    folder = Path(conf.get("core", "dags_folder")) / name
    folder.mkdir()
    try:
        (folder / f"{name}.flow.yaml").write_text(MAP_FLOW.format(name=name, concurrency=4))
        (folder / f"{name}.airflow.yaml").write_text(f"local_store: {tmp_path}\n")
        (folder / "cloudflow_dags.py").write_text(LOADER_SOURCE)
        fresh_settings.delenv("AIRFLOW__CLOUDFLOW__STAGING_URL", raising=False)
        fresh_settings.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
        result = run_dag_test(name, {"items": [1, 2, 3]})
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert result.state == "failed"
    assert result.task_states[("M", -1)] == "failed"
    assert result.task_states[("M__results", -1)] == "failed"
    assert not (tmp_path / "out").exists()  # nothing was read or written
    error = _xcom(name, result.run_id, "M", "cloudflow_error")
    assert "[cloudflow] staging_url" in error["Detail"] and "CeleryExecutor" in error["Detail"]


def _xcom(dag_id: str, run_id: str, task_id: str, key: str):
    from sqlalchemy import select

    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.execute(select(XComModel.value).where(
            XComModel.dag_id == dag_id, XComModel.run_id == run_id, XComModel.task_id == task_id,
            XComModel.key == key)).scalar_one()
    return XComModel.deserialize_value(type("Row", (), {"value": row})())
