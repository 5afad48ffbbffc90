"""``run --engine airflow``: compile a definition into a DAG and run it through Airflow's ``dag.test()``.

The definition is copied into a private folder under the configured DAGs folder together with the
project's one-line loader and a sidecar (local store, mocks), so the DAG is built exactly as the DAG
processor would build it; the run's outcome is read back from the finishing task.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..loader_file import LOADER_NAME, LOADER_SOURCE
from .sidecar import definition_stem



DAG_TEST_MAX_SHARDS = 4
"""``dag.test()`` runs task instances one after another in this process, so more shards bring no
parallelism, only ~0.3 s of task-instance overhead each: a Map runs in at most this many shards here
(a deployment's scheduler uses ``[cloudflow] max_shards``)."""


@dataclass(frozen=True)
class AirflowRunResult:
    """The same three fields as the interpreter's ``ExecutionResult.as_json()``, plus the DAG run."""

    status: str
    output: Any
    error: dict[str, Any] | None
    dag_id: str
    run_id: str
    task_states: dict[str, str | None]

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "output": self.output, "error": self.error}


class UnmigratedDatabase(RuntimeError):
    """The configured metadata database is at an older Airflow revision (the message says what to do)."""


def ensure_airflow_home() -> Path | None:
    """Use the configured Airflow; with none configured, make a temporary SQLite home and migrate it.

    Must run before ``airflow`` is imported. Returns the temporary home (the caller removes it) or
    None when an existing configuration is used (then call ``ensure_migrated``).
    """
    if os.environ.get("AIRFLOW_HOME") or "airflow" in sys.modules:
        return None
    home = Path(tempfile.mkdtemp(prefix="cloudflow-airflow-"))
    (home / "dags").mkdir()
    os.environ.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
    })
    _migrate()
    return home


def ensure_migrated() -> None:
    """A configured Airflow whose metadata database is new (no tables yet, e.g. ``AIRFLOW_HOME`` set
    to a fresh folder) is migrated first, as ``airflow db migrate`` does. A database at an older
    revision is left alone — upgrading it is its owner's decision — and ``UnmigratedDatabase`` says
    to run ``airflow db migrate``."""
    from airflow import settings
    from airflow.utils.db import check_migrations
    from sqlalchemy import inspect

    if not inspect(settings.engine).get_table_names():
        _migrate()
        return
    try:
        check_migrations(timeout=1)
    except TimeoutError:
        raise UnmigratedDatabase(
            f"the Airflow metadata database ({settings.engine.url.render_as_string(hide_password=True)}) is not "
            "migrated to this Airflow version: run `airflow db migrate` with the same AIRFLOW_HOME, then retry"
        ) from None


def _migrate() -> None:
    airflow_bin = Path(sys.executable).parent / "airflow"
    result = subprocess.run([str(airflow_bin), "db", "migrate"], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed: {result.stderr[-2000:]}")


def run_definition(
    definition: str | Path,
    execution_input: dict[str, Any],
    *,
    store_dir: str | None = None,
    mocks: str | None = None,
    substitutions: dict[str, str] | None = None,
) -> AirflowRunResult:
    """Build the definition's DAG in the configured DAGs folder, ``dag.test()`` it, report the outcome."""
    from airflow.configuration import conf

    from ..dialects import load_definition
    from ..planning.plan import dag_id_for

    source = Path(definition).resolve()
    machine = load_definition(source, substitutions)
    dag_id = dag_id_for(machine)
    folder = Path(conf.get("core", "dags_folder")) / f"cloudflow-run-{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True)
    try:
        shutil.copyfile(source, folder / source.name)
        sidecar: dict[str, Any] = {
            "staging_url": (folder / "staging").as_uri(),
            "subflows": "in_process",
            "max_shards": DAG_TEST_MAX_SHARDS,
        }
        if store_dir:
            sidecar["local_store"] = str(Path(store_dir).resolve())
        if mocks:
            sidecar["mocks"] = str(Path(mocks).resolve())
        if substitutions:
            sidecar["definition_substitutions"] = dict(substitutions)
        (folder / f"{definition_stem(source)}.airflow.yaml").write_text(json.dumps(sidecar))
        (folder / LOADER_NAME).write_text(LOADER_SOURCE)
        return _test_run(folder, dag_id, execution_input)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _test_run(folder: Path, dag_id: str, execution_input: dict[str, Any]) -> AirflowRunResult:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(folder), collect_dags=True)
    if dag_id not in bag.dags:
        raise RuntimeError(f"the DAG {dag_id!r} was not built (got {sorted(bag.dags)}); import errors: {bag.import_errors}")
    dag = bag.dags[dag_id]
    run = dag.test(run_conf=execution_input)
    return read_outcome(dag, run.run_id)


def read_outcome(dag, run_id: str) -> AirflowRunResult:
    """The finishing task's return value, or the flow error a failed task recorded."""
    from sqlalchemy import select

    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    from .xcom import ERROR_KEY

    finish = [t for t in dag.tasks if not t.downstream_task_ids][0].task_id
    with create_session() as session:
        dag_run = session.scalars(select(DagRun).where(DagRun.dag_id == dag.dag_id, DagRun.run_id == run_id)).one()
        states = {
            f"{ti.task_id}[{ti.map_index}]" if ti.map_index >= 0 else ti.task_id: _state(ti.state)
            for ti in session.scalars(
                select(TaskInstance).where(TaskInstance.dag_id == dag.dag_id, TaskInstance.run_id == run_id)
            )
        }
        rows = session.scalars(
            select(XComModel).where(XComModel.dag_id == dag.dag_id, XComModel.run_id == run_id,
                                    XComModel.task_id == finish)
        ).all()
        values = {row.key: XComModel.deserialize_value(row) for row in rows}
        run_state = _state(dag_run.state)
    if run_state == "success" and "return_value" in values:
        return AirflowRunResult("Succeeded", values["return_value"], None, dag.dag_id, run_id, states)
    error = values.get(ERROR_KEY) or {"Code": "FnF.TaskFailed", "Detail": f"DAG run ended {run_state}"}
    return AirflowRunResult("Failed", None, {"Code": error.get("Code"), "Detail": error.get("Detail")},
                            dag.dag_id, run_id, states)


def _state(state: Any) -> str | None:
    return None if state is None else str(getattr(state, "value", state))
