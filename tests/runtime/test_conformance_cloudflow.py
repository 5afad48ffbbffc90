"""Every CloudFlow conformance case through the interpreter (cases: shared/conformance/cloudflow)."""

from __future__ import annotations

import pytest

from airflow_cloudflow.dialects import load_definition_text
from airflow_cloudflow.integrations.mocks import load_mocks
from airflow_cloudflow.runtime.clock import FakeClock
from airflow_cloudflow.runtime.interpreter import Interpreter
from airflow_cloudflow.storage.resolver import StoreResolver
from tests.runtime.conformance import Matcher, check_objects_after, load_cases, seed_store

CASES = load_cases()


def run_case(case: dict, tmp_path):
    seed_store(tmp_path, case)
    machine = load_definition_text(case["definition_yaml"], f"{case['name']}.flow.yaml")
    mocks = load_mocks(case.get("functions") or {})
    clock = FakeClock()
    interpreter = Interpreter(machine, integrations=mocks, stores=StoreResolver.local(tmp_path), clock=clock)
    return interpreter.execute(case["input"]), mocks, clock


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case, tmp_path):
    result, mocks, clock = run_case(case, tmp_path)
    expected = case["expected"]
    matcher = Matcher()
    detail = f"{result.status} output={result.output!r} error={result.error!r} ({case['notes']})"
    assert result.status == expected["status"], detail
    if expected["status"] == "Succeeded":
        assert matcher.match(expected["output"], result.output), detail
    else:
        error = expected["error"]
        assert matcher.match(error["Code"], result.error.code), detail
        if error.get("Detail") is not None:
            assert result.error.detail == error["Detail"], detail
    if "visited_states" in expected:
        assert list(result.visited) == expected["visited_states"]
    if "function_calls" in expected:
        assert mocks.calls == expected["function_calls"]
    if "min_duration_s" in expected:
        assert clock.slept >= expected["min_duration_s"]
    if "oss_objects_after" in expected:
        assert check_objects_after(matcher, tmp_path, expected["oss_objects_after"]) == []


def test_every_case_is_collected():
    assert len(CASES) >= 69
    assert {c["group"] for c in CASES} == {"seed", "doc", "semantics"}
