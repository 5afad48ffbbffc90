"""Fuzz: arbitrary text and mutated valid definitions never make ``lint_text`` raise or hang."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_cloudflow.diagnostics import Issue
from airflow_cloudflow.dialects import lint_text
from tests.conftest import CLOUDFLOW_CASES_DIR

SEEDS = [json.loads(p.read_text())["definition_yaml"] for p in sorted(CLOUDFLOW_CASES_DIR.glob("*.json"))]
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOKENS = ["Type", "Name", "Next", "End", "true", "Map", "Choice", ".$", "$Input.", "$Item", "$Output", "- ", ":",
          "\n", "  ", "&a", "*a", "[", "{", "!!str", "ProcessorConfig", "ItemReader", "'", '"', "-1", "0", "~"]


def check(text: str) -> None:
    machine, issues = lint_text(text, "fuzz.flow.yaml")
    assert all(isinstance(i, Issue) and i.line >= 0 and i.column >= 0 for i in issues)
    assert issues == sorted(issues, key=lambda i: (i.line, i.column, i.code, i.message))
    if machine is None:
        assert any(i.is_error for i in issues)


@FUZZ
@given(st.text(max_size=400))
def test_arbitrary_text(text):
    check(text)


@FUZZ
@given(st.sampled_from(SEEDS), st.data())
def test_mutated_valid_definitions(seed, data):
    text = seed
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(text)))
        action = data.draw(st.sampled_from(["delete", "insert", "token", "swap_lines"]))
        if action == "delete":
            text = text[:pos] + text[pos + data.draw(st.integers(1, 20)):]
        elif action == "insert":
            text = text[:pos] + data.draw(st.text(max_size=10)) + text[pos:]
        elif action == "token":
            text = text[:pos] + data.draw(st.sampled_from(TOKENS)) + text[pos:]
        else:
            lines = text.split("\n")
            i, j = data.draw(st.integers(0, len(lines) - 1)), data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
    check(text)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


@FUZZ
@given(st.sampled_from(SEEDS), st.sampled_from(["Type", "Name", "Next", "End", "States", "StartAt", "Processor",
                                                "ItemReader", "ItemsPath", "Branches", "Seconds", "MaxItems"]),
       json_values)
def test_field_replaced_by_arbitrary_json(seed, key, value):
    lines = seed.split("\n")
    for i, line in enumerate(lines):
        if line.strip().startswith(f"{key}:") or line.strip().startswith(f"- {key}:"):
            indent = line[: len(line) - len(line.lstrip())]
            prefix = "- " if line.strip().startswith("- ") else ""
            lines[i] = f"{indent}{prefix}{key}: {json.dumps(value)}"
            break
    check("\n".join(lines))


def test_deep_nesting_does_not_crash():
    text = "a: " + "[" * 5000 + "]" * 5000
    check(text)
    assert [i.code for i in lint_text(text, "deep.flow.yaml")[1]] == ["CF-E100"]
    check("a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(300)))
