"""The ASL corpus' ``distributed/`` and ``other/`` groups through Airflow (``dag.test()`` on the DAG
the loader builds from ``<case>.asl.json``), compared with the AWS recordings exactly as the
interpreter run is (``tests/asl/conformance.py``).

A non-object execution input travels as the DAG run conf ``{"$input": …}``. The Lambda
``wait_60_seconds`` behaviour is not used by these groups, so no fake clock is needed here.
"""

from __future__ import annotations

import json

import pytest

from tests.asl.conformance import case_paths, compare, load_case, mocks_for, seed_store, substitute

CASES = [p for group in ("distributed", "other") for p in case_paths(group)]


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_asl_case_through_airflow(path, airflow_home, tmp_path):
    from airflow_cloudflow.providers.engine import run_definition

    case = load_case(path)
    store = tmp_path / "store"
    store.mkdir()
    seed_store(store, case)
    definition = tmp_path / f"{case['name']}.asl.json"
    definition.write_text(json.dumps(substitute(case["definition"]), indent=2))
    mocks = tmp_path / "mocks.json"
    mocks.write_text(json.dumps(mocks_for(case)))
    execution_input = substitute(case["input"])
    conf = execution_input if isinstance(execution_input, dict) else {"$input": execution_input}
    result = run_definition(definition, conf, store_dir=str(store), mocks=str(mocks))
    status = "SUCCEEDED" if result.status == "Succeeded" else "FAILED"
    error = result.error or {}
    problems = compare(case, status, result.output, error.get("Code"), error.get("Detail"))
    assert not problems, "\n".join(problems) + f"\ntasks={result.task_states}"
