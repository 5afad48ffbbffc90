"""The ASL corpus recorded against AWS, through the core interpreter.

Every execution case of ``distributed/``, ``inline/``, ``other/`` and ``intrinsics/`` runs and is
compared with its recording (README wildcards, ``compare`` hints). Cases we knowingly differ on are
listed in ``DOCUMENTED`` (and in docs/conformance.md, "ASL"): their tests assert our documented
behaviour instead. ``definition_validation/`` goes through ``lint_text``; ``test_state/`` through a
one-state machine (see ``test_test_state_asl.py``).
"""

from __future__ import annotations

import json

import pytest

from airflow_cloudflow.dialects import lint_text
from tests.asl.conformance import case_paths, compare, load_case
from tests.asl.run_case import run_case

DOCUMENTED: dict[str, tuple[str, str | None, str]] = {
    # name: (our status, our error, why)
    "imap_max_concurrency_path_negative": (
        "FAILED", "States.Runtime",
        "AWS never finished this execution (the recording holds only ExecutionStarted; README caveat). "
        "A negative MaxConcurrencyPath fails at once here with States.Runtime instead of hanging.",
    ),
}


def _ids(group: str) -> list:
    return [pytest.param(p, id=p.stem) for p in case_paths(group)]


def _check(case: dict, tmp_path) -> None:
    status, output, error, cause = run_case(case, tmp_path)
    if case["name"] in DOCUMENTED:
        expected_status, expected_error, _ = DOCUMENTED[case["name"]]
        assert case["expected"]["status"] == "NOT_TERMINATED_IN_RECORDING"
        assert (status, error) == (expected_status, expected_error)
        return
    problems = compare(case, status, output, error, cause)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", _ids("other"))
def test_other(path, tmp_path):
    _check(load_case(path), tmp_path)


@pytest.mark.parametrize("path", _ids("inline"))
def test_inline(path, tmp_path):
    _check(load_case(path), tmp_path)


@pytest.mark.parametrize("path", _ids("distributed"))
def test_distributed(path, tmp_path):
    _check(load_case(path), tmp_path)


@pytest.mark.parametrize("path", _ids("intrinsics"))
def test_intrinsics(path, tmp_path):
    _check(load_case(path), tmp_path)


def _defval_variants(case: dict) -> list[tuple[str, dict]]:
    variants = case["expected"].get("variants")
    if not variants:
        return [(case["name"], case["definition"])]
    out = []
    for variant in variants:
        definition = json.loads(json.dumps(case["definition"]).replace(
            json.dumps("label_{invalid_char}"), json.dumps(variant["label"])))
        out.append((repr(variant["test_id_param"]), definition))
    return out


@pytest.mark.parametrize("path", _ids("definition_validation"))
def test_definition_validation(path):
    """CreateStateMachine rejects the Label (``InvalidDefinition``): lint reports ``ASL-E314`` at
    the ``Label`` line, for every recorded variant."""
    case = load_case(path)
    assert case["expected"]["error_code"] == "InvalidDefinition"
    variants = _defval_variants(case)
    for what, definition in variants:
        text = json.dumps(definition, indent=2)
        machine, issues = lint_text(text, "label.asl.json")
        errors = [i for i in issues if i.is_error]
        assert [i.code for i in errors] == ["ASL-E314"], (what, [str(i) for i in errors])
        label_line = next(n for n, line in enumerate(text.splitlines(), 1) if '"Label"' in line)
        assert errors[0].line == label_line
    if case["expected"].get("variants"):
        assert len(variants) == len(case["expected"]["variants"]) > 80
