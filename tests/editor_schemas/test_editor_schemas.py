"""The shipped schema files equal the generated ones, and every example (``dags/``) and every
conformance definition that lint accepts validates against its schema (so an editor never marks
a definition that ``airflow-cloudflow lint`` and Airflow accept)."""

from __future__ import annotations

import json

import pytest

from airflow_cloudflow.dialects import lint_text
from airflow_cloudflow.editor_schemas import KINDS, render, shipped_path
from tests.conftest import ASL_CASES_DIR, CLOUDFLOW_CASES_DIR, REPO_ROOT
from tests.editor_schemas.support import as_editor_sees, validator

DAGS = REPO_ROOT / "dags"


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_shipped_file_is_the_generated_schema(kind):
    assert shipped_path(kind).read_text(encoding="utf-8") == render(kind), (
        f"{shipped_path(kind).name} is stale: run `python -m airflow_cloudflow.editor_schemas`")


def _errors(kind: str, data) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator(kind).iter_errors(data)]


def test_every_example_and_settings_file_in_dags_validates():
    checked = 0
    for path in sorted(DAGS.rglob("*")):
        name = path.name
        if name.endswith((".flow.yaml", ".flow.yml")):
            kind = "flow"
        elif name.endswith((".asl.json", ".asl.yaml", ".asl.yml")):
            kind = "asl"
        elif name.endswith((".airflow.yaml", ".airflow.yml")) or name == "cloudflow.defaults.yaml":
            kind = "sidecar"
        else:
            continue
        assert _errors(kind, as_editor_sees(path.read_text(encoding="utf-8"))) == [], path
        checked += 1
    assert checked >= 6


def _lint_clean(text: str, file: str) -> bool:
    _, issues = lint_text(text, file)
    return not any(i.is_error for i in issues)


def test_every_cloudflow_conformance_definition_lint_accepts_validates():
    cases = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(CLOUDFLOW_CASES_DIR.glob("*.json"))]
    accepted = [c for c in cases if _lint_clean(c["definition_yaml"], c["name"] + ".flow.yaml")]
    assert len(accepted) >= 60
    failures = {c["name"]: _errors("flow", as_editor_sees(c["definition_yaml"])) for c in accepted}
    assert {k: v for k, v in failures.items() if v} == {}


def test_every_asl_conformance_definition_lint_accepts_validates():
    checked, rejected_by_lint = 0, 0
    failures = {}
    for path in sorted(ASL_CASES_DIR.glob("*/*.json")):
        case = json.loads(path.read_text(encoding="utf-8"))
        definition = case.get("definition")
        if definition is None:
            continue
        text = definition if isinstance(definition, str) else json.dumps(definition)
        if not _lint_clean(text, case["name"] + ".asl.json"):
            rejected_by_lint += 1
            continue
        checked += 1
        errors = _errors("asl", json.loads(text))
        if errors:
            failures[case["name"]] = errors
    assert failures == {}
    assert checked >= 250


STRUCTURE_CODES = {"CF-E110", "CF-E111", "CF-E112", "CF-E113", "CF-E114", "CF-E115"}
"""Wrong type, missing or unknown field, wrong flow Type / state Type / SpecVersion: what a schema sees."""


def test_every_invalid_corpus_file_with_a_structural_error_is_refused_by_the_schema():
    import yaml

    checked = []
    for folder, kind in ((REPO_ROOT / "tests" / "invalid", "flow"), (REPO_ROOT / "tests" / "invalid_asl", "asl")):
        for path in sorted(folder.glob("*.*")):
            if path.suffix == ".expect":
                continue
            text = path.read_text(encoding="utf-8")
            _, issues = lint_text(text, str(path))
            if not STRUCTURE_CODES & {i.code for i in issues}:
                continue
            try:
                data = as_editor_sees(text)
            except yaml.YAMLError:
                continue  # not even YAML: the editor's parser reports it
            assert _errors(kind, data), f"{path.name}: lint reports {sorted(i.code for i in issues)}, the schema nothing"
            checked.append(path.name)
    assert len(checked) >= 10
