"""OpenLineage datasets of flow tasks (``providers/lineage.py``) with the OpenLineage provider
installed: through its extractor, and end to end from ``airflow dags test`` with the provider's
listener writing its events to a file transport; without the provider the methods answer None."""

from __future__ import annotations

import json
import subprocess

from airflow_cloudflow.storage import recording
from tests.providers.airflow_env import AIRFLOW_BIN
from tests.providers.dag_runs import load_dag
from tests.providers.test_assets import flow  # noqa: F401  (fixture)


def test_the_openlineage_extractor_reports_known_and_run_time_datasets(flow: str) -> None:  # noqa: F811
    from airflow.providers.openlineage.extractors.manager import ExtractorManager

    from airflow_cloudflow.providers.runtime import build_interpreter

    task = load_dag(flow).get_task("Upload")
    extractor = ExtractorManager()._get_extractor(task)
    started = extractor.extract()
    assert (started.inputs, started.outputs) == ([], [])  # the key is computed: only the run knows it

    task.pre_execute(context={})  # what the task runner calls before execute: the recording starts
    stores = build_interpreter(task.machine, task.options).stores
    stores.for_scheme("oss").put("data", "in/x.csv", b"id\n")
    done = extractor.extract_on_complete(None)
    recording.stop(task._cloudflow_access)

    assert [(d.namespace, d.name) for d in done.outputs] == [("oss://data", "in/x.csv")]

    reader = load_dag(flow).get_task("Orders__results")
    finished = ExtractorManager()._get_extractor(reader).extract()
    assert [(d.namespace, d.name) for d in finished.outputs] == [("oss://results", "out")]


def test_without_the_openlineage_provider_the_methods_answer_none(flow: str, monkeypatch) -> None:  # noqa: F811
    import sys

    monkeypatch.setitem(sys.modules, "airflow.providers.openlineage.extractors", None)  # import fails

    assert load_dag(flow).get_task("Orders__results").get_openlineage_facets_on_start() is None


def test_the_listener_emits_the_datasets_of_a_real_run(flow: str, airflow_home, tmp_path) -> None:  # noqa: F811
    events_file = tmp_path / "lineage.jsonl"
    env = {**airflow_home.process_env(),
           "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps({"type": "file", "log_file_path": str(events_file),
                                                          "append": True}),
           "AIRFLOW__OPENLINEAGE__NAMESPACE": "cloudflow-test"}
    done = subprocess.run([AIRFLOW_BIN, "dags", "test", flow, "--conf", json.dumps({"key": "in/run.csv"})],
                          env=env, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]

    events = [json.loads(line) for line in events_file.read_text().splitlines() if line.strip()]
    complete = {e["job"]["name"].split(".", 1)[1]: e for e in events
                if e["eventType"] == "COMPLETE" and "." in e["job"]["name"]}

    def names(event, side):
        return [(d["namespace"], d["name"]) for d in event[side]]

    assert names(complete["Upload"], "outputs") == [("oss://data", "in/run.csv")]  # known only at run time
    assert names(complete["Orders"], "inputs") == [("oss://data", "in/run.csv")]
    assert names(complete["Orders__results"], "outputs") == [("oss://results", "out")]
