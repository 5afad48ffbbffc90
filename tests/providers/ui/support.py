"""A distributed Map run by ``dag.test()`` whose staging and results stay on disk for the view's tests,
and an auth manager that denies one user the DAG's runs (Airflow's SimpleAuthManager lets every
role read every DAG, so a denial needs a manager that denies something)."""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from pathlib import Path

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

DAG_ID = "ui_orders"
OUTSIDER = "mallory"
ITEMS = 40
FAILING = {3, 17, 29, 38}  # 4 of 40 = 10 % ≤ the tolerated 30 %


class OutsiderAuthManager(SimpleAuthManager):
    """Airflow's SimpleAuthManager, except that user ``OUTSIDER`` may not read the runs or task
    instances of the DAG ``DAG_ID`` (whatever the role)."""

    def is_authorized_dag(self, *, method, user, access_entity=None, details=None) -> bool:
        if details is not None and details.id == DAG_ID and user.get_name() == OUTSIDER:
            return False
        return super().is_authorized_dag(method=method, user=user, access_entity=access_entity, details=details)


def flow_text(name: str) -> str:
    return textwrap.dedent(f"""\
        Type: StateMachine
        Name: {name}
        SpecVersion: v1
        StartAt: Orders
        States:
          - Type: Map
            Name: Orders
            ProcessorConfig:
              ExecutionMode: Express
            ItemsPath: $Input.Items
            ToleratedFailurePercentage: 30
            MaxConcurrency: 8
            Processor:
              StartAt: Check
              States:
                - Type: Choice
                  Name: Check
                  Branches:
                    - Condition: $Input.bad
                      Next: Reject
                  Default: Accept
                - Type: Succeed
                  Name: Accept
                  End: true
                - Type: Fail
                  Name: Reject
                  Code: Orders.Rejected
                  Detail: negative amount
                  End: true
            ResultWriter:
              Parameters:
                Bucket: results
                Prefix: orders/
            End: true
        """)


def items() -> dict:
    return {"Items": [{"id": i, "bad": i in FAILING} for i in range(ITEMS)]}


@dataclass(frozen=True)
class MapRunOnDisk:
    dag_id: str
    run_id: str
    state: str
    folder: Path


def run_map(dags_folder: Path, name: str) -> MapRunOnDisk:
    """Build and ``dag.test()`` the flow ``name`` in its own folder of the DAGs folder (kept)."""
    from airflow.dag_processing.dagbag import DagBag

    from airflow_cloudflow.loader_file import LOADER_NAME, LOADER_SOURCE

    folder = dags_folder / f"ui-{name}"
    (folder / "store" / "results").mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.flow.yaml").write_text(flow_text(name))
    (folder / f"{name}.airflow.yaml").write_text(json.dumps({
        "staging_url": (folder / "staging").as_uri(), "local_store": str(folder / "store"),
        "max_shards": 4, "shard_size": 10}))
    (folder / LOADER_NAME).write_text(LOADER_SOURCE)
    bag = DagBag(dag_folder=str(folder), collect_dags=True)
    if name not in bag.dags:
        raise KeyError(f"{name} not built; import errors: {bag.import_errors}")
    dag = bag.dags[name]
    run = dag.test(run_conf=items())
    return MapRunOnDisk(dag.dag_id, run.run_id, str(run.state), folder)
