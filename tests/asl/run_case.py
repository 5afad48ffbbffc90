"""Run one ASL corpus case through the core interpreter (no Airflow)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from airflow_cloudflow.dialects import load_definition_text
from airflow_cloudflow.integrations.mocks import load_mocks
from airflow_cloudflow.runtime.clock import FakeClock
from airflow_cloudflow.runtime.interpreter import Interpreter
from airflow_cloudflow.storage.resolver import StoreResolver
from tests.asl.conformance import mocks_for, seed_store, substitute


def run_case(case: dict, tmp_path: Path) -> tuple[str, Any, str | None, str | None]:
    """``(status, output, error, cause)`` of the case's execution, statuses spelt as AWS does."""
    seed_store(tmp_path, case)
    definition = substitute(case["definition"])
    machine = load_definition_text(json.dumps(definition, indent=2), f"{case['name']}.asl.json")
    interpreter = Interpreter(machine, integrations=load_mocks(mocks_for(case)),
                              stores=StoreResolver.local(tmp_path), clock=FakeClock(grace=0.5))
    result = interpreter.execute(substitute(case["input"]), execution_name="exec-" + case["name"][:40])
    if result.succeeded:
        return "SUCCEEDED", result.output, None, None
    return "FAILED", None, result.error.code, result.error.detail
