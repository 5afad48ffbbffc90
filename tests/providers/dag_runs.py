"""Run a DAG of the configured DAGs folder with ``dag.test()`` and read back what it did.

Imports Airflow lazily: call only after ``airflow_env.activate`` (the providers conftest does it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TiKey = tuple[str, int]
"""(task_id, map_index); map_index is -1 for an unmapped task."""


@dataclass(frozen=True)
class DagRunResult:
    """The outcome of one DagRun: its state, every TI's state and try number, return-value XComs."""

    dag_id: str
    run_id: str
    state: str
    task_states: Mapping[TiKey, str | None] = field(default_factory=dict)
    try_numbers: Mapping[TiKey, int] = field(default_factory=dict)
    xcoms: Mapping[TiKey, Any] = field(default_factory=dict)

    def states_of(self, task_id: str) -> list[str | None]:
        """States of a task's instances, ordered by map index."""
        return [s for (t, _), s in sorted(self.task_states.items()) if t == task_id]

    def xcoms_of(self, task_id: str) -> list[Any]:
        """Return values of a task's instances, ordered by map index."""
        return [v for (t, _), v in sorted(self.xcoms.items()) if t == task_id]


def load_dag(dag_id: str):
    """Parse the configured DAGs folder and return the DAG ``dag_id`` (KeyError with import errors)."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(collect_dags=True)
    if dag_id not in bag.dags:
        raise KeyError(f"DAG {dag_id!r} not found in {bag.dag_folder}; import errors: {bag.import_errors}")
    return bag.dags[dag_id]


def run_dag_test(dag_id: str, conf: Mapping[str, Any] | None = None) -> DagRunResult:
    """``dag.test(run_conf=conf)`` on the DAG ``dag_id``, then read states and XComs from the DB."""
    dag = load_dag(dag_id)
    dag_run = dag.test(run_conf=dict(conf) if conf is not None else None)
    return read_run(dag_id, dag_run.run_id)


def read_run(dag_id: str, run_id: str) -> DagRunResult:
    """States, try numbers and ``return_value`` XComs of one DagRun, read through the ORM."""
    from sqlalchemy import select

    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        run = session.scalars(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)).one()
        tis = session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
        ).all()
        rows = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == dag_id, XComModel.run_id == run_id, XComModel.key == "return_value"
            )
        ).all()
        return DagRunResult(
            dag_id=dag_id,
            run_id=run_id,
            state=_state(run.state) or "",
            task_states={(ti.task_id, ti.map_index): _state(ti.state) for ti in tis},
            try_numbers={(ti.task_id, ti.map_index): ti.try_number for ti in tis},
            xcoms={(x.task_id, x.map_index): XComModel.deserialize_value(x) for x in rows},
        )


def _state(state: Any) -> str | None:
    return None if state is None else str(getattr(state, "value", state))
