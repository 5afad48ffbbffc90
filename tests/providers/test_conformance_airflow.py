"""Every CloudFlow conformance case through Airflow (``dag.test()`` on the DAG the loader builds).

The same matching rules as the interpreter run (``tests/runtime/conformance.py``). Not checked here:
``visited_states`` and ``function_calls`` (the interpreter test pins them; a DAG run shows visited
states as task states, asserted for Choice in ``test_engine.py``).
"""

from __future__ import annotations

import json
import time

import pytest

from tests.runtime.conformance import Matcher, check_objects_after, load_cases, seed_store

CASES = load_cases()


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case_through_airflow(case, airflow_home, tmp_path):
    from airflow_cloudflow.providers.engine import run_definition

    store = tmp_path / "store"
    store.mkdir()
    seed_store(store, case)
    definition = tmp_path / f"{case['name']}.flow.yaml"
    definition.write_text(case["definition_yaml"])
    mocks = tmp_path / "mocks.json"
    mocks.write_text(json.dumps(case.get("functions") or {}))
    started = time.monotonic()
    result = run_definition(definition, case["input"], store_dir=str(store), mocks=str(mocks))
    elapsed = time.monotonic() - started

    expected = case["expected"]
    matcher = Matcher()
    detail = f"{result.status} output={result.output!r} error={result.error!r} tasks={result.task_states}"
    assert result.status == expected["status"], detail
    if expected["status"] == "Succeeded":
        assert matcher.match(expected["output"], result.output), detail
    else:
        assert matcher.match(expected["error"]["Code"], result.error["Code"]), detail
        if expected["error"].get("Detail") is not None:
            assert result.error["Detail"] == expected["error"]["Detail"], detail
    if "min_duration_s" in expected:
        assert elapsed >= expected["min_duration_s"]
    if "oss_objects_after" in expected:
        assert check_objects_after(matcher, store, expected["oss_objects_after"]) == []
