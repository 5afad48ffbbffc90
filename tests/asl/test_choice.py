"""ASL Choice rules: every comparator, ``*Path`` forms, And/Or/Not, type tests, StringMatches."""

from __future__ import annotations

import pytest

from airflow_cloudflow.exceptions import FlowError
from airflow_cloudflow.expressions.asl.choice import ChoiceSyntaxError, compile_rule, string_matches


def ok(rule: dict, value, variables=None) -> bool:
    return compile_rule({**rule, "Next": "N"}).evaluate({"input": value, "variables": variables or {}})


@pytest.mark.parametrize("op, expected, actual, result", [
    ("StringEquals", "a", "a", True), ("StringEquals", "a", "b", False), ("StringLessThan", "a", "b", False),
    ("StringGreaterThan", "a", "b", True), ("StringLessThanEquals", "b", "b", True),
    ("StringGreaterThanEquals", "c", "b", False),
    ("NumericEquals", 1, 1.0, True), ("NumericLessThan", 2, 1, True), ("NumericGreaterThan", 2, 1, False),
    ("NumericLessThanEquals", 1, 1, True), ("NumericGreaterThanEquals", 1, 0, False),
    ("BooleanEquals", True, True, True), ("BooleanEquals", False, True, False),
    ("TimestampEquals", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00+00:00", True),
    ("TimestampLessThan", "2024-01-02T00:00:00Z", "2024-01-01T00:00:00Z", True),
    ("TimestampGreaterThanEquals", "2024-01-02T00:00:00Z", "2024-01-01T00:00:00Z", False),
    ("NumericEquals", 1, "1", False),  # the wrong type is simply false
    ("StringEquals", "1", 1, False),
])
def test_comparators(op, expected, actual, result):
    assert ok({"Variable": "$.v", op: expected}, {"v": actual}) is result


def test_path_forms_compare_against_another_path_and_variables():
    assert ok({"Variable": "$.a", "NumericLessThanPath": "$.b"}, {"a": 1, "b": 2})
    assert ok({"Variable": "$.a", "StringEqualsPath": "$limit"}, {"a": "x"}, {"limit": "x"})
    assert not ok({"Variable": "$.a", "TimestampGreaterThanPath": "$.b"},
                  {"a": "2024-01-01T00:00:00Z", "b": "2025-01-01T00:00:00Z"})


def test_boolean_operators():
    rule = {"And": [{"Variable": "$.a", "IsPresent": True},
                    {"Or": [{"Variable": "$.b", "IsNull": True}, {"Not": {"Variable": "$.c", "IsString": True}}]}]}
    assert ok(rule, {"a": 1, "b": None})
    assert ok(rule, {"a": 1, "b": 2, "c": 3})
    assert not ok(rule, {"a": 1, "b": 2, "c": "s"})


@pytest.mark.parametrize("op, value, result", [
    ("IsNumeric", 1.5, True), ("IsNumeric", True, False), ("IsBoolean", False, True), ("IsString", "", True),
    ("IsTimestamp", "2024-01-01T00:00:00.123Z", True), ("IsTimestamp", "2024-01-01", False), ("IsNull", None, True),
])
def test_type_tests(op, value, result):
    assert ok({"Variable": "$.v", op: True}, {"v": value}) is result
    assert ok({"Variable": "$.v", op: False}, {"v": value}) is (not result)


def test_is_present_on_a_missing_path_and_a_missing_path_elsewhere_is_runtime():
    assert ok({"Variable": "$.nope", "IsPresent": False}, {})
    with pytest.raises(FlowError) as info:
        ok({"Variable": "$.nope", "NumericEquals": 1}, {})
    assert info.value.code == "States.Runtime" and "Invalid path '$.nope'" in info.value.detail


@pytest.mark.parametrize("text, pattern, result", [
    ("log-2024.txt", "log-*.txt", True), ("log.txt", "log-*.txt", False), ("a*b", r"a\*b", True),
    ("axb", r"a\*b", False), ("a\\b", r"a\\b", True), ("anything", "*", True), ("", "*", True),
])
def test_string_matches(text, pattern, result):
    assert string_matches(text, pattern) is result
    assert ok({"Variable": "$.v", "StringMatches": pattern}, {"v": text}) is result


@pytest.mark.parametrize("rule", [
    {"Variable": "$.v"}, {"Variable": "v", "IsNull": True}, {"Variable": "$.v", "Foo": 1},
    {"And": []}, {"Not": {"Variable": "$.v", "IsNull": True, "Next": "X"}},
    {"Variable": "$.v", "BooleanEquals": "true"},
])
def test_malformed_rules_are_rejected(rule):
    with pytest.raises(ChoiceSyntaxError):
        compile_rule({**rule, "Next": "N"})


@pytest.mark.parametrize("text, pattern, result", [
    ("a", "a*a", False), ("aa", "a*a", True), ("abcabc", "*bc*bc", True), ("abc", "*b*b*", False),
    ("x*y", r"x\*y", True), ("x\\y", "x\\", False), ("x\\", "x\\", True), ("ab", "**b", True), ("", "", True),
    ("a", "", False), ("start-mid-end", "start*end", True), ("start", "start*end", False),
])
def test_string_matches_edges(text, pattern, result):
    assert string_matches(text, pattern) is result


def test_string_matches_agrees_with_a_reference_matcher_on_small_inputs():
    import itertools
    import re

    def reference(value, pattern):
        out, i = [], 0
        while i < len(pattern):
            if pattern[i] == "\\" and i + 1 < len(pattern):
                out.append(re.escape(pattern[i + 1]))
                i += 2
                continue
            out.append(".*" if pattern[i] == "*" else re.escape(pattern[i]))
            i += 1
        return re.fullmatch("".join(out), value, re.DOTALL) is not None

    values = ["".join(p) for n in range(5) for p in itertools.product("ab", repeat=n)]
    patterns = ["".join(p) for n in range(5) for p in itertools.product("ab*\\", repeat=n)]
    for value in values:
        for pattern in patterns:
            assert string_matches(value, pattern) is reference(value, pattern), (value, pattern)


def test_string_matches_is_linear_on_a_pathological_pattern():
    """Backtracking (the old ``.*`` regex) would take far longer than the suite on this input."""
    value = "a" * 20_000
    assert string_matches(value, "*a" * 30 + "*b") is False
    assert ok({"Variable": "$.v", "StringMatches": "*a" * 30 + "*b"}, {"v": value}) is False
    assert string_matches(value + "b", "*a" * 30 + "*b") is True
