"""Compiled templates: literals shared, containers rebuilt, errors raised as FlowError."""

from __future__ import annotations

import pytest

from airflow_cloudflow.exceptions import ErrorCodes, FlowError
from airflow_cloudflow.expressions.cloudflow import compile_expression
from airflow_cloudflow.model import ArrayTemplate, Expression, Literal, ObjectTemplate
from airflow_cloudflow.runtime.evaluation import compiled, evaluate, reads_context


def expr(source):
    return Expression(source, compile_expression(source))


def test_literal_is_returned_as_is():
    value = {"a": [1]}
    assert evaluate(Literal(value), {}) is value


def test_object_and_array_templates():
    t = ObjectTemplate((("x", expr("$Input.a")), ("l", ArrayTemplate((Literal(1), expr("$Item")))),))
    assert evaluate(t, {"Input": {"a": 5}, "Item": "i"}) == {"x": 5, "l": [1, "i"]}
    first = evaluate(t, {"Input": {"a": 5}, "Item": "i"})
    assert first is not evaluate(t, {"Input": {"a": 5}, "Item": "i"})


def test_reads_context_and_memoised():
    t = ObjectTemplate((("x", expr("$Context.Current.Name")),))
    assert reads_context(t) and not reads_context(ObjectTemplate((("x", expr("$Input")),)))
    assert compiled(t) is compiled(t)


def test_errors_surface_as_runtime_flow_errors():
    t = ObjectTemplate((("x", expr("length($Input.n)")),))
    with pytest.raises(FlowError) as err:
        evaluate(t, {"Input": {"n": 3}})
    assert err.value.code == ErrorCodes.RUNTIME
