"""``run --engine airflow`` (``providers/engine.py``, ``dag.test()`` on the loader's DAG) on the
real-world definitions of ``tests/asl/real_world``: substitutions reach the DAG it builds, and
Jayway paths and YAML 1.2 state names behave as in the interpreter."""

from __future__ import annotations

import json

import pytest

from tests.asl.test_real_world import FOLDER


@pytest.mark.parametrize(
    "name, execution_input, expected",
    [
        ("order_processing.asl.json", {"orderId": "o-1"}, {"orderId": "o-1", "charged": True}),
        ("pipes_enrichment.asl.json", {"$input": [{"messageId": "m-1", "eventSource": "s", "body": '{"priority": "low"}'}]},
         {"order": {"priority": "low"}, "messageId": "m-1", "attributes": ["m-1", "s"], "route": "standard"}),
        ("approval.asl.yaml", {"approved": True, "ticket": 3}, {"decision": "On", "ticket": 3}),
    ],
)
def test_real_world_definitions_run_under_airflow(name, execution_input, expected, airflow_home, tmp_path):
    from airflow_cloudflow.commands.substitutions import substitutions_for
    from airflow_cloudflow.providers.engine import run_definition

    definition = FOLDER / name
    substitutions, issues = substitutions_for(definition)
    assert issues == []
    mocks = FOLDER / "order_processing.mocks.json"
    result = run_definition(definition, execution_input, mocks=str(mocks), substitutions=substitutions)
    assert (result.status, result.output) == ("Succeeded", expected), json.dumps(result.task_states)
