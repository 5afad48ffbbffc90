"""ASL JSONPath: the supported forms, Jayway-style errors, and the InputPath/ResultPath/OutputPath
helpers (including the ``$$`` cases recorded in ``other/other_context_*``)."""

from __future__ import annotations

import pytest

from airflow_cloudflow.exceptions import ExpressionSyntaxError, FlowError
from airflow_cloudflow.expressions.asl.io_paths import state_cause
from airflow_cloudflow.expressions.asl.jsonpath import PathNotFound, compile_path, compile_reference_path
from airflow_cloudflow.expressions.asl.io_paths import apply_input_path, apply_output_path, apply_result_path

DOC = {
    "a": {"b": [1, 2, {"c": 3}]},
    "x y": 1,
    "delivery-partner": "ups",
    "arr": [{"p": 1, "t": "a"}, {"p": 5, "t": "b"}, {"t": "c"}],
}
VARS = {"input": DOC, "context": {"State": {"Name": "S"}, "Execution": {"Input": {"k": 1}}},
        "variables": {"x": {"y": 7}}}


@pytest.mark.parametrize(
    "source, expected",
    [
        ("$", DOC),
        ("$.a.b[2].c", 3),
        ("$['x y']", 1),
        ('$["x y"]', 1),
        ("$.delivery-partner", "ups"),
        ("$.a.b[-1]", {"c": 3}),
        ("$.a.b[*]", [1, 2, {"c": 3}]),
        ("$.a.b.*", [1, 2, {"c": 3}]),
        ("$.a.b[0:2]", [1, 2]),
        ("$.a.b[1:]", [2, {"c": 3}]),
        ("$.a.b[0,2]", [1, {"c": 3}]),
        ("$['a','x y']", [DOC["a"], 1]),
        ("$..c", [3]),
        ("$.arr[*].t", ["a", "b", "c"]),
        ("$.arr[?(@.p > 2)]", [{"p": 5, "t": "b"}]),
        ("$.arr[?(@.p)].t", ["a", "b"]),
        ("$.arr[?(!@.p)].t", ["c"]),
        ("$.arr[?(@.t == 'a' || @.p >= 5)].t", ["a", "b"]),
        ("$.arr[?(@.t != 'a' && (@.p < 9))].t", ["b"]),
        ("$.arr[?(@.p == $['x y'])].t", ["a"]),
        ("$.arr[?(@.p == $.nothing)].t", []),
        ("$$.State.Name", "S"),
        ("$$.Execution.Input", {"k": 1}),
        ("$x.y", 7),
        ("$.missing[*]", []),
    ],
)
def test_evaluate(source, expected):
    assert compile_path(source).evaluate(VARS) == expected


@pytest.mark.parametrize(
    "source, detail",
    [
        ("$.no.such", "Missing property in path $['no']"),
        ("$.a.zz", "No results for path: $['a']['zz']"),
        ("$.a.b[9]", "No results for path: $['a']['b'][9]"),
        ("$.a.b.c", "Expected to find an object with property ['c'] in path $['a']['b'] but found 'array'"),
        ("$['x y'][0]", "Filter: [0] can only be applied to arrays. Current context is: 1"),
    ],
)
def test_definite_path_misses_raise_jayway_texts(source, detail):
    with pytest.raises(PathNotFound) as info:
        compile_path(source).evaluate(VARS)
    assert (info.value.code, info.value.detail, info.value.path) == ("States.Runtime", detail, source)


def test_undefined_variable():
    with pytest.raises(PathNotFound):
        compile_path("$nope").evaluate(VARS)


def test_definite_flag():
    assert compile_path("$.a.b[0]").definite
    assert not compile_path("$.a.b[*]").definite
    assert compile_path("$.a[0]").is_reference
    assert not compile_path("$$.a").is_reference


@pytest.mark.parametrize(
    "source, position",
    [("", 0), ("a", 0), ("$.", 2), ("$[", 2), ("$.a b", 3), ("$['a", 4), ("$[?(@.a ==)]", 10),
     ("@.a", 0), ("$.a*", 2), ("$[1:2:0]", 7), ("$.a]", 3)],
)
def test_syntax_errors_carry_position(source, position):
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_path(source)
    assert info.value.position == position
    assert info.value.expression == source


def test_reference_path_rejects_wildcards():
    with pytest.raises(ExpressionSyntaxError):
        compile_reference_path("$.a[*]")
    with pytest.raises(ExpressionSyntaxError):
        compile_reference_path("$$.a")


# --------------------------------------------------------------------------- I/O helpers

CTX = {"Execution": {"Input": {"input-value": 0}}, "State": {"Name": "TestState"}}


def test_input_path_context_object():  # other_context_input_path / _execution_input
    assert apply_input_path({"input-value": 0}, compile_path("$$"), CTX) == CTX
    assert apply_input_path({"q": 1}, "$$.Execution.Input", CTX) == {"input-value": 0}


def test_output_path_context_object():  # other_context_output_path / _execution_input
    assert apply_output_path({"r": 1}, "$$", CTX) == CTX
    assert apply_output_path({"r": 1}, "$$.Execution.Input", CTX) == {"input-value": 0}


def test_null_paths_give_empty_object():
    assert apply_input_path({"a": 1}, None) == {}
    assert apply_output_path({"a": 1}, None) == {}


def test_root_path_is_identity():
    value = {"a": 1}
    assert apply_input_path(value, "$") is value


def test_output_path_miss_matches_recorded_cause():  # other_catch_states_runtime
    with pytest.raises(FlowError) as info:
        apply_output_path({}, "$.no.such.result.path")
    assert info.value.code == "States.Runtime"
    assert state_cause("RaiseRuntime", 2, info.value.detail) == (
        "An error occurred while executing the state 'RaiseRuntime' (entered at the event id #2). "
        "Invalid path '$.no.such.result.path' : Missing property in path $['no']"
    )


def test_input_path_leaf_miss():
    with pytest.raises(FlowError) as info:
        apply_input_path({"a": 1}, "$.b")
    assert info.value.detail == "Invalid path '$.b' : No results for path: $['b']"


def test_result_path_null_discards_and_root_replaces():
    assert apply_result_path({"a": 1}, {"r": 2}, None) == {"a": 1}
    assert apply_result_path({"a": 1}, {"r": 2}, "$") == {"r": 2}


def test_result_path_merges_without_mutating():
    state_input = {"detail": {"x": 1, "keep": [1]}, "other": {"o": 1}}
    out = apply_result_path(state_input, [9], compile_reference_path("$.detail.shipped_output"))
    assert out == {"detail": {"x": 1, "keep": [1], "shipped_output": [9]}, "other": {"o": 1}}
    assert state_input == {"detail": {"x": 1, "keep": [1]}, "other": {"o": 1}}
    assert out["other"] is state_input["other"]  # only the path is copied


def test_result_path_creates_objects_and_replaces_index():
    assert apply_result_path({}, 1, "$.a.b.c") == {"a": {"b": {"c": 1}}}
    assert apply_result_path({"l": [0, 1]}, 5, "$.l[1]") == {"l": [0, 5]}


@pytest.mark.parametrize("state_input, path", [({"a": 1}, "$.a.b"), ([1], "$.a"), ({"l": []}, "$.l[0]")])
def test_result_path_mismatch(state_input, path):
    with pytest.raises(FlowError) as info:
        apply_result_path(state_input, 1, path)
    assert info.value.code == "States.ResultPathMatchFailure"
    assert path in info.value.detail


# --------------------------------------------------------------------------- Jayway's tokenizer

PIPE = [{"body": '{"id": 7}', "a": 1, "b": 2, "c": 3}, {"body": "{}", "a": 4, "b": 5}]


@pytest.mark.parametrize(
    "source, expected",
    [
        ("$.[0]", PIPE[0]),  # EventBridge Pipes enrichment: the input is the batch array
        ("$.[0].body", '{"id": 7}'),
        ("$.[*].['a','b']", [1, 2, 4, 5]),
        ("$.[1:].a", [4]),
        ("$..['a']", [1, 4]),
        ("  $.[0].a  ", 1),
    ],
)
def test_dot_before_a_bracket_and_blanks_around_as_jayway(source, expected):
    assert compile_path(source).evaluate({"input": PIPE}) == expected


def test_dot_before_bracket_inside_names():
    assert compile_path("$.a.[0].b").evaluate({"input": {"a": [{"b": "x"}]}}) == "x"
    assert compile_path("$$.Execution.Name ").evaluate({"context": {"Execution": {"Name": "n"}}}) == "n"
    assert compile_path("$.a.[0].b").definite


@pytest.mark.parametrize(
    "source",
    ["$.[?(@.x==Failure)]", "$[?(@.x == Failure)]", "$...a", "$.a.", "$.a..", "$.[", "$.a b"],
)
def test_what_jayway_rejects_stays_rejected(source):
    with pytest.raises(ExpressionSyntaxError):
        compile_path(source)


def test_blank_trimmed_reference_path():
    assert compile_reference_path(" $.a.[0] ").is_reference
