"""The recorded AWS intrinsic cases (and the Pass-only ``$$`` path cases), run through a tiny
Pass-chain runner built from the public JSONPath / intrinsic / payload functions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_cloudflow.exceptions import FlowError
from airflow_cloudflow.expressions.asl.payload import compile_payload, evaluate_payload
from airflow_cloudflow.expressions.asl.jsonpath import compile_path, compile_reference_path
from airflow_cloudflow.expressions.asl.io_paths import apply_input_path, apply_output_path, apply_result_path
from tests.conftest import ASL_CASES_DIR

INTRINSIC_CASES = sorted((ASL_CASES_DIR / "intrinsics").glob("*.json"))
PASS_PATH_CASES = [
    ASL_CASES_DIR / "other" / f"other_context_{name}.json"
    for name in ("input_path", "input_path_execution_input", "output_path", "output_path_execution_input")
]

_MISSING = object()


def context_object(execution_input: Any, state_name: str) -> dict[str, Any]:
    """The context object, with the corpus' placeholders standing for the run-specific values."""
    return {
        "Execution": {
            "Id": "arn:<partition>:states:<region>:111111111111:execution:<ArnPart_0idx>:<ExecArnPart_0idx>",
            "Input": execution_input,
            "StartTime": "date",
            "Name": "<ExecArnPart_0idx>",
            "RoleArn": "snf_role_arn",
            "RedriveCount": 0,
        },
        "StateMachine": {
            "Id": "arn:<partition>:states:<region>:111111111111:stateMachine:<ArnPart_0idx>",
            "Name": "<ArnPart_0idx>",
        },
        "State": {"Name": state_name, "EnteredTime": "date"},
    }


def _path(state: dict, key: str, reference: bool = False):
    value = state.get(key, "$")
    if value is None:
        return None
    return compile_reference_path(value) if reference else compile_path(value)


def run_pass_chain(definition: dict[str, Any], execution_input: Any) -> dict[str, Any]:
    """Run a chain of Pass states: InputPath → Parameters/Result → ResultPath → OutputPath."""
    states = definition["States"]
    name = definition["StartAt"]
    value = execution_input
    try:
        for _ in range(len(states) + 1):
            state = states[name]
            assert state["Type"] == "Pass", f"not a Pass chain: {state['Type']}"
            context = context_object(execution_input, name)
            effective = apply_input_path(value, _path(state, "InputPath"), context)
            if "Parameters" in state:
                template = compile_payload(state["Parameters"], "/States/" + name + "/Parameters")
                effective = evaluate_payload(template, {"input": effective, "context": context})
            result = state.get("Result", effective)
            value = apply_result_path(value, result, _path(state, "ResultPath", reference=True))
            value = apply_output_path(value, _path(state, "OutputPath"), context)
            if state.get("End"):
                return {"status": "SUCCEEDED", "output": value}
            name = state["Next"]
    except FlowError as exc:
        return {"status": "FAILED", "error": exc.code, "cause": exc.detail}
    raise AssertionError("the chain did not end")


@pytest.mark.parametrize("case_file", INTRINSIC_CASES + PASS_PATH_CASES, ids=lambda p: p.stem)
def test_recorded_case(case_file):
    case = json.loads(case_file.read_text())
    expected = case["expected"]
    outcome = run_pass_chain(case["definition"], case["input"])
    assert outcome["status"] == expected["status"]
    if expected["status"] == "SUCCEEDED":
        assert outcome["output"] == expected["output"]
        # JSON types matter too: 3 is not 3.0 in the recorded output
        assert json.dumps(outcome["output"], sort_keys=True) == json.dumps(expected["output"], sort_keys=True)
    else:
        assert (outcome["error"], outcome["cause"]) == (expected["error"], expected["cause"])


def test_corpus_size():
    assert len(INTRINSIC_CASES) == 126
