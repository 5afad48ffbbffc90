"""Plan → DAG: the builder wires exactly what the plan says (no DB needed)."""

from __future__ import annotations

import textwrap
from datetime import timedelta

from airflow_cloudflow.dialects import load_definition_text
from airflow_cloudflow.providers.options import DagOptions

FLOW = textwrap.dedent("""\
    Type: StateMachine
    Name: built
    SpecVersion: v1
    Description: Built for a test.
    Timeout: 600
    StartAt: Outer
    States:
      - Type: Parallel
        Name: Outer
        Branches:
          - StartAt: Inner
            States:
              - Type: Parallel
                Name: Inner
                Branches:
                  - StartAt: Leaf
                    States:
                      - {Type: Pass, Name: Leaf, End: true}
                End: true
        Next: Orders
      - Type: Map
        Name: Orders
        ProcessorConfig: {ExecutionMode: Express}
        ItemsPath: $Input.Items
        MaxConcurrency: 40
        Processor:
          StartAt: P
          States:
            - {Type: Pass, Name: P, End: true}
        Next: Call
      - Type: Task
        Name: Call
        Action: HTTP:Request
        Parameters: {url: "http://127.0.0.1:1/", method: GET}
        Retry:
          - {Errors: [FnF.ALL], MaxAttempts: 2, IntervalSeconds: 3}
        End: true
    """)


def build():
    from airflow_cloudflow.providers.builder import build_dag

    machine = load_definition_text(FLOW, "built.flow.yaml")
    return build_dag(machine, DagOptions(default_input={"Items": [1, 2]}, tags=("team-a",)))


def test_tasks_dependencies_and_trigger_rules_follow_the_plan(airflow_home):
    dag = build()
    assert dag.dag_id == "built"
    assert set(dag.task_ids) == {"Outer", "Inner", "Leaf", "Inner__join", "Outer__join", "Orders",
                                 "Orders__process", "Orders__results", "Call", "finish"}
    assert dag.get_task("Orders").downstream_task_ids == {"Orders__process", "Orders__results"}
    assert dag.get_task("Orders__results").trigger_rule == "all_done"
    assert dag.get_task("finish").trigger_rule == "all_done"
    assert [t.task_id for t in dag.tasks if not t.downstream_task_ids] == ["finish"]


def test_branch_groups_nest_like_the_parallels(airflow_home):
    dag = build()
    leaf_group = dag.get_task("Leaf").task_group
    assert leaf_group.group_id == "Inner__branch0"
    assert leaf_group.parent_group.group_id == "Outer__branch0"


def test_the_shard_task_is_mapped_and_bounded_by_max_concurrency(airflow_home):
    shards = build().get_task("Orders__process")
    assert shards.partial_kwargs["max_active_tis_per_dagrun"] == 16
    assert shards.partial_kwargs["in_shard_concurrency"] * 16 <= 40
    assert shards.partial_kwargs["map_index_template"] == "{{ cloudflow_shard_label }}"


def test_a_single_retry_rule_becomes_airflow_retries(airflow_home):
    call = build().get_task("Call")
    assert call.retries == 2
    assert type(call.retry_policy).__name__ == "CloudFlowRetryPolicy"


def test_dag_settings_docs_and_params(airflow_home):
    dag = build()
    assert dag.dagrun_timeout == timedelta(seconds=600)
    assert set(dag.tags) == {"cloudflow", "team-a"}
    assert dag.params["Items"] == [1, 2]
    assert "## Compiled plan" in dag.doc_md and "Name: built" in dag.doc_md


def test_a_distributed_maps_three_tasks_sit_in_one_group_shown_as_the_state(airflow_home):
    dag = build()
    tasks = ("Orders", "Orders__process", "Orders__results")
    assert {(dag.get_task(t).task_group.group_id, dag.get_task(t).task_group.label) for t in tasks} == {
        ("Orders__map", "Orders")}
    assert set(dag.task_group_dict["Orders__map"].children) == set(tasks)
    assert dag.get_task("Call").task_group.group_id is None  # other states stay where they were


def test_the_input_schema_types_and_describes_the_trigger_forms_fields(airflow_home):
    from airflow_cloudflow.providers.builder import build_dag

    schema = {"type": "object", "required": ["bucket"], "properties": {
        "Items": {"type": "array", "description": "the orders to process", "title": "Orders"},
        "limit": {"type": "integer", "minimum": 1, "default": 10, "description": "at most this many"},
        "bucket": {"type": "string", "description": "where the orders are"},
        "note": {"type": "string"}}}
    dag = build_dag(load_definition_text(FLOW, "built.flow.yaml"),
                    DagOptions(default_input={"Items": [1, 2], "other": True}, input_schema=schema))
    params = {key: dag.params.get_param(key) for key in ("Items", "limit", "bucket", "note", "other")}
    assert (params["Items"].value, params["Items"].description) == ([1, 2], "the orders to process")
    assert params["Items"].schema == {"type": "array", "title": "Orders"}
    assert (params["limit"].value, params["limit"].schema) == (10, {"type": "integer", "minimum": 1})
    assert params["note"].value is None and params["note"].schema == {"type": ["string", "null"]}
    assert not params["bucket"].has_value  # required: the form asks for it
    assert params["other"].value is True and params["other"].schema == {}
