"""JSONata evaluation failures are coded (``States.QueryEvaluationError``), never Python exceptions."""

from __future__ import annotations

import pytest

from airflow_cloudflow.exceptions import ExpressionSyntaxError, FlowError
from airflow_cloudflow.expressions.asl import jsonata_expr
from airflow_cloudflow.expressions.asl.jsonata_expr import compile_jsonata


def _evaluate(source: str):
    return compile_jsonata(source, "Output").evaluate({"input": {"expr": "1 + 1"}})


@pytest.mark.parametrize("source, python_error", [
    ("{% 1/0 %}", "ZeroDivisionError"),
    ("{% $number('abc') %}", "ValueError"),
    ('{% $toMillis("x") %}', "ValueError"),
    ("{% $power(10, 400) %}", "OverflowError"),
])
def test_library_python_errors_become_query_evaluation_errors(source, python_error):
    with pytest.raises(FlowError) as info:
        _evaluate(source)
    assert info.value.code == "States.QueryEvaluationError"
    assert "specified for the field 'Output' threw an error during evaluation" in info.value.detail
    assert python_error in info.value.detail


def test_pad_width_is_bounded():
    with pytest.raises(FlowError) as info:
        _evaluate('{% $pad("x", 1e9) %}')
    assert info.value.code == "States.QueryEvaluationError"
    assert "$pad width" in info.value.detail
    assert _evaluate('{% $pad("x", -3, "#") %}') == "##x"


def test_eval_is_refused_when_compiled_and_disabled_when_reached_another_way():
    with pytest.raises(ExpressionSyntaxError, match=r"\$eval\(\) is not supported by Step Functions; use \$parse\(\)"):
        compile_jsonata("{% $eval($states.input.expr) %}", "Output")
    with pytest.raises(FlowError) as info:
        _evaluate("{% ($e := $eval; $e($states.input.expr)) %}")
    assert info.value.code == "States.QueryEvaluationError"
    assert "$eval() is not supported" in info.value.detail


def test_runaway_recursion_is_stopped():
    with pytest.raises(FlowError) as info:
        _evaluate("{% ($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000)) %}")
    assert info.value.code == "States.QueryEvaluationError"
    assert _evaluate("{% ($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(300)) %}") == 300


def test_evaluation_time_is_bounded_per_evaluation(monkeypatch):
    compiled = compile_jsonata("{% $count($map([1..20000], function($v){ $v * 2 })) %}", "Output")
    monkeypatch.setattr(jsonata_expr, "EVALUATION_TIMEOUT_MS", 0)
    with pytest.raises(FlowError) as info:
        compiled.evaluate({"input": {}})
    assert info.value.code == "States.QueryEvaluationError"
    assert "timeout" in info.value.detail.lower()
    monkeypatch.setattr(jsonata_expr, "EVALUATION_TIMEOUT_MS", 60_000)
    assert compiled.evaluate({"input": {}}) == 20000  # the clock restarts for every evaluation
