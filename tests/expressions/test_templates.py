"""Tests for airflow_cloudflow.expressions.templates.evaluate_template."""

from __future__ import annotations

import pytest

from airflow_cloudflow.exceptions import ErrorCodes, FlowError
from airflow_cloudflow.expressions.cloudflow import compile_expression
from airflow_cloudflow.expressions.templates import evaluate_template
from airflow_cloudflow.model import ArrayTemplate, Expression, Literal, ObjectTemplate


def expr(source: str) -> Expression:
    return Expression(source, compile_expression(source))


def test_literal_is_returned_as_is_without_copying():
    value = {"a": [1, 2], "b": "$Input.x"}  # a string starting with $ stays a string
    assert evaluate_template(Literal(value), {}) is value


def test_expression_is_evaluated_against_the_variables():
    assert evaluate_template(expr("$Input.x"), {"Input": {"x": 7}}) == 7


def test_object_template_builds_a_new_dict_in_field_order():
    shared = {"fixed": True}
    template = ObjectTemplate(
        (
            ("name", expr("$Input.name")),
            ("static", Literal(shared)),
            ("nested", ObjectTemplate((("n", expr("length($Input.tags)")),))),
            ("list", ArrayTemplate((Literal(1), expr("$Item")))),
        )
    )
    variables = {"Input": {"name": "Ann", "tags": ["a", "b"]}, "Item": {"k": 1}}
    first = evaluate_template(template, variables)
    second = evaluate_template(template, variables)
    assert first == {"name": "Ann", "static": {"fixed": True}, "nested": {"n": 2}, "list": [1, {"k": 1}]}
    assert list(first) == ["name", "static", "nested", "list"]
    assert first is not second and first["nested"] is not second["nested"]
    assert first["static"] is shared  # literals are shared, never copied
    assert shared == {"fixed": True}


def test_array_template_builds_a_new_list():
    template = ArrayTemplate((expr("$Input.a"), Literal("b")))
    result = evaluate_template(template, {"Input": {"a": "A"}})
    assert result == ["A", "b"]
    assert evaluate_template(template, {"Input": {"a": "A"}}) is not result


def test_expression_failure_propagates_as_flow_error():
    template = ObjectTemplate((("x", expr("$Output.y")),))
    with pytest.raises(FlowError) as info:
        evaluate_template(template, {"Input": {}})
    assert info.value.code == ErrorCodes.RUNTIME and "$Output" in info.value.detail


def test_not_a_template_is_a_type_error():
    with pytest.raises(TypeError, match="not a template"):
        evaluate_template({"a": 1}, {})  # type: ignore[arg-type]
