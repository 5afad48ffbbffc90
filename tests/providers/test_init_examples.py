"""``airflow-cloudflow init --examples`` gives a DAGs folder whose examples import clean and run
through Airflow (``dag.test()``) on their own local store, the Step Functions distributed Map over
S3 included, with the sidecar's default input."""

from __future__ import annotations

import json
import shutil

from airflow_cloudflow.cli import main as cli_main
from tests.providers.dag_runs import run_dag_test


def test_the_examples_folder_imports_clean_and_the_s3_map_runs_on_its_store(airflow_home):
    from airflow.dag_processing.dagbag import DagBag

    dags = airflow_home.dags_folder / "from-init"  # its own loader: the folder belongs to it alone
    assert cli_main(["init", str(dags), "--examples"]) == 0
    try:
        bag = DagBag(dag_folder=str(dags), collect_dags=True)
        assert bag.import_errors == {}
        assert {"hello", "orders_map", "orders_s3_map", "choice_retry"} <= set(bag.dag_ids)
        result = run_dag_test("orders_s3_map")  # no conf: the sidecar's default_input
        assert result.state == "success", result.task_states
        manifests = list((dags / "examples" / "store" / "demo-bucket" / "results-asl").glob("*/manifest.json"))
        assert len(manifests) == 1
        files = json.loads(manifests[0].read_text())["ResultFiles"]
        assert files["SUCCEEDED"] and files["FAILED"]
    finally:
        shutil.rmtree(dags, ignore_errors=True)
