"""The "Map Run" and "Results" buttons of a distributed Map's tasks."""

from __future__ import annotations

import textwrap

from airflow_cloudflow.dialects import load_definition_text
from airflow_cloudflow.providers.options import DagOptions

FLOW = textwrap.dedent("""\
    Type: StateMachine
    Name: linked
    SpecVersion: v1
    StartAt: Orders
    States:
      - Type: Map
        Name: Orders
        ProcessorConfig: {ExecutionMode: Express}
        ItemsPath: $Input.Items
        Processor:
          StartAt: P
          States:
            - {Type: Pass, Name: P, End: true}
        ResultWriter:
          Parameters: {Bucket: results, Prefix: out/}
        Next: Plain
      - Type: Map
        Name: Plain
        ProcessorConfig: {ExecutionMode: Express}
        ItemsPath: $Input.Items
        Processor:
          StartAt: Q
          States:
            - {Type: Pass, Name: Q, End: true}
        End: true
    """)


def test_each_map_task_links_to_its_map_run_and_the_writer_to_its_manifest(airflow_home):
    from airflow.models.taskinstancekey import TaskInstanceKey

    from airflow_cloudflow.providers.builder import build_dag

    dag = build_dag(load_definition_text(FLOW, "linked.flow.yaml"), DagOptions())
    run_id = "manual__2026-12-02T03:00:00+00:00"

    def links(task_id):
        task = dag.get_task(task_id)
        key = TaskInstanceKey(dag.dag_id, task_id, run_id, 1, -1)
        return {link.name: link.get_link(task, ti_key=key) for link in task.operator_extra_links}

    view = "/cloudflow/maprun?dag_id=linked&run_id=manual__2026-12-02T03%3A00%3A00%2B00%3A00&task_id=Orders"
    assert links("Orders") == {"Map Run": view}
    assert links("Orders__process") == {"Map Run": view}
    assert links("Orders__results") == {
        "Map Run": view, "Results": view.replace("/maprun?", "/api/results/manifest?")}
    assert links("Plain__results")["Results"] == ""  # no ResultWriter: no files to link
