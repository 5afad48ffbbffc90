"""Every conformance ``definition_yaml`` loads into the model and lints with zero errors."""

from __future__ import annotations

import json
import time

import pytest

from airflow_cloudflow.dialects import lint_text, load_definition_text
from airflow_cloudflow.model import Map, StateMachine
from tests.conftest import CLOUDFLOW_CASES_DIR

CASES = sorted(CLOUDFLOW_CASES_DIR.glob("*.json"))


def _definition(path):
    return json.loads(path.read_text(encoding="utf-8"))["definition_yaml"]


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_conformance_definition_loads_and_lints_clean(case):
    text = _definition(case)
    machine = load_definition_text(text, f"{case.stem}.flow.yaml")
    assert isinstance(machine, StateMachine)
    assert machine.states and machine.start_at == machine.states[0].name or machine.graph.get(machine.start_at)
    _, issues = lint_text(text, f"{case.stem}.flow.yaml")
    assert [str(i) for i in issues if i.is_error] == []


def test_corpus_is_not_empty():
    assert len(CASES) >= 60


def test_parse_time_is_milliseconds():
    texts = [_definition(c) for c in CASES]
    start = time.perf_counter()
    for text in texts:
        lint_text(text)
    per_definition = (time.perf_counter() - start) / len(texts)
    assert per_definition < 0.05


def test_distributed_maps_are_marked_distributed():
    text = _definition(CLOUDFLOW_CASES_DIR / "seed_item_reader_oss_csv.json")
    (state,) = load_definition_text(text).states
    assert isinstance(state, Map) and state.distributed and state.execution_mode == "Express"
    assert state.item_reader.source_type == "OSS_CSV"
