"""ASL payload templates: ``.$`` keys become expressions, the rest folds into literals; runtime
misses carry AWS's field-level cause."""

from __future__ import annotations

import pytest

from airflow_cloudflow.exceptions import ExpressionSyntaxError, FlowError
from airflow_cloudflow.expressions.asl.payload import compile_binding, compile_payload, evaluate_payload
from airflow_cloudflow.expressions.asl.intrinsics import IntrinsicCall
from airflow_cloudflow.expressions.asl.jsonpath import JsonPath
from airflow_cloudflow.model import ArrayTemplate, Expression, Literal, Location, ObjectTemplate

VARS = {
    "input": {"Bucket": "b", "Key": "k", "n": [1, 2]},
    "context": {"Map": {"Item": {"Index": 3, "Value": {"v": 1}}}},
    "variables": {"x": 9},
}


def test_expression_free_payload_folds_into_one_literal():
    payload = {"a": 1, "b": {"c": [1, {"d": "$.not-a-path"}]}}
    assert compile_payload(payload) == Literal(payload)


def test_dollar_keys_become_expressions_with_stripped_names():
    template = compile_payload(
        {"Bucket.$": "$.Bucket", "Index.$": "$$.Map.Item.Index", "Len.$": "States.ArrayLength($.n)",
         "Var.$": "$x", "Static": {"k": 1}, "List": [{"Value.$": "$$.Map.Item.Value"}, 2]}
    )
    assert isinstance(template, ObjectTemplate)
    names = [name for name, _ in template.fields]
    assert names == ["Bucket", "Index", "Len", "Var", "Static", "List"]
    fields = dict(template.fields)
    assert isinstance(fields["Bucket"], Expression) and isinstance(fields["Bucket"].compiled.compiled, JsonPath)
    assert isinstance(fields["Len"].compiled.compiled, IntrinsicCall)
    assert fields["Static"] == Literal({"k": 1})
    assert isinstance(fields["List"], ArrayTemplate) and fields["List"].items[1] == Literal(2)
    assert evaluate_payload(template, VARS) == {
        "Bucket": "b", "Index": 3, "Len": 2, "Var": 9, "Static": {"k": 1}, "List": [{"Value": {"v": 1}}, 2],
    }


def test_whole_input():
    assert evaluate_payload(compile_payload({"all.$": "$"}), VARS) == {"all": VARS["input"]}


def test_evaluation_does_not_share_containers_between_runs():
    template = compile_payload({"a.$": "$.Key", "b": [1]})
    first = evaluate_payload(template, VARS)
    assert first == evaluate_payload(template, VARS) and first is not evaluate_payload(template, VARS)


def test_missing_path_cause_matches_aws():
    template = compile_payload({"JobName.$": "$.JobName"})
    with pytest.raises(FlowError) as info:
        evaluate_payload(template, {"input": {}, "context": {}})
    assert info.value.code == "States.Runtime"
    assert info.value.detail == (
        "The JSONPath '$.JobName' specified for the field 'JobName.$' could not be found in the input '{}'"
    )


def test_missing_path_inside_intrinsic_names_the_argument():
    template = compile_payload({"r.$": "States.ArrayLength($.nope)"})
    with pytest.raises(FlowError) as info:
        evaluate_payload(template, {"input": {"a": "é"}, "context": {}})
    assert info.value.detail == (
        "The JSONPath '$.nope' specified for the field 'r.$' could not be found in the input '{\"a\":\"é\"}'"
    )


def test_missing_context_path_shows_the_context_object():
    with pytest.raises(FlowError) as info:
        compile_binding("$$.Nope", "c.$").evaluate({"input": {"a": 1}, "context": {"c": 1}})
    assert info.value.detail.endswith("could not be found in the input '{\"c\":1}'")


@pytest.mark.parametrize(
    "value, pointer, position",
    [
        ({"a.$": "not a path"}, "/a.$", 0),
        ({"x": {"a.$": "$.b c"}}, "/x/a.$", 3),
        ({"a.$": "States.Nope()"}, "/a.$", 0),
        ({"l": [{"a.$": 3}]}, "/l/0/a.$", 0),
        ({"a": 1, "a.$": "$.a"}, "/a.$", 0),
    ],
)
def test_bad_dollar_values_are_syntax_errors_with_pointer(value, pointer, position):
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_payload(value)
    assert info.value.pointer == pointer
    assert info.value.position == position


def test_locations_come_from_the_locator():
    seen = []

    def locate(pointer):
        seen.append(pointer)
        return Location("f.json", 3, 7, pointer)

    template = compile_payload({"a.$": "$.Key"}, "/States/S/Parameters", locate)
    assert seen == ["/States/S/Parameters/a.$"]
    assert template.fields[0][1].location.line == 3
