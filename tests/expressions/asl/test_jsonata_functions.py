"""The JSONata functions Step Functions adds (expressions/asl/jsonata_functions.py) and the lint of calls."""

from __future__ import annotations

import json
import re

import pytest

from airflow_cloudflow.dialects import lint_text, load_definition_text
from airflow_cloudflow.exceptions import ExpressionSyntaxError, FlowError
from airflow_cloudflow.expressions.asl.jsonata_expr import compile_jsonata
from airflow_cloudflow.integrations.mocks import load_mocks
from airflow_cloudflow.runtime.clock import FakeClock
from airflow_cloudflow.runtime.interpreter import Interpreter


def evaluate(source: str, input=None):
    return compile_jsonata("{% " + source + " %}", "Output").evaluate({"input": input or {}, "context": {}})


@pytest.mark.parametrize("source, expected", [
    ("$partition([1,2,3,4,5,6,7,8,9], 4)", [[1, 2, 3, 4], [5, 6, 7, 8], [9]]),
    ("$partition([1,2,3,4,5,6,7,8,9], 3)", [[1, 2, 3], [4, 5, 6], [7, 8, 9]]),
    ("$range(0, 10, 2)", [0, 2, 4, 6, 8, 10]),
    ("$range(1, 9, 3)", [1, 4, 7]),
    ("$range(10, 0, -4)", [10, 6, 2]),
    ("$hash('input data', 'MD5')", "812f45842bc6d66ee14572ce20db8e86"),
    ("$hash('abc', 'SHA-256')", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ("$parse('{\"a\": [1, null, \"x\"]}')", {"a": [1, None, "x"]}),
    ("$parse($states.input.body).id", 7),
    ("$random(7) = $random(7)", True),
])
def test_step_functions_functions(source, expected):
    assert evaluate(source, {"body": '{"id": 7}'}) == expected


def test_random_is_in_the_unit_interval_and_a_seed_repeats_it():
    values = [evaluate("$random()") for _ in range(50)]
    assert all(0 <= v < 1 for v in values) and len(set(values)) > 1
    assert evaluate("$random(42)") == evaluate("$random(42)") != evaluate("$random(43)")


def test_uuid_is_a_fresh_version_4_uuid():
    first, second = evaluate("$uuid()"), evaluate("$uuid()")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", first)
    assert first != second


@pytest.mark.parametrize("source, message", [
    ("$partition([1, 2], 0)", "$partition chunk size must be positive"),
    ("$partition([1, 2], 1.5)", "$partition: argument 2 must be an integer"),
    ("$range(0, 5000, 1)", "$range would create 5001 elements; the limit is 1000"),
    ("$range(0, 5, 0)", "$range step cannot be 0"),
    ("$hash('x', 'SHA-2')", "$hash algorithm must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512"),
    ("$parse('not json')", "$parse could not parse its argument as JSON"),
    ("$uuid(1)", "Argument 1 of Object uuid does not match"),  # the signature: no argument
])
def test_bad_arguments_fail_the_expression(source, message):
    with pytest.raises(FlowError) as info:
        evaluate(source)
    assert info.value.code == "States.QueryEvaluationError" and message in info.value.detail


@pytest.mark.parametrize("source", ["$nosuch(1)", "[1, 2] ~> $nosuch", "$string($eval('1'))"])
def test_a_call_that_can_never_run_is_a_compile_error(source):
    with pytest.raises(ExpressionSyntaxError):
        compile_jsonata("{% " + source + " %}", "Output")


def test_functions_bound_in_the_expression_are_callable():
    assert evaluate("($double := function($x){ $x * 2 }; $double(4) ~> $string)") == "8"


def test_lint_reports_an_unknown_function_and_passes_the_added_ones():
    good = {"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {
        "Type": "Pass", "Output": {"id": "{% $uuid() %}", "body": "{% $parse($states.input.s) %}",
                                   "chunks": "{% $partition($range(1, 5, 1), 2) %}",
                                   "h": "{% $hash($states.input.s, 'SHA-1') %}", "r": "{% $random() %}"},
        "End": True}}}
    assert [i for i in lint_text(json.dumps(good), "good.asl.json")[1] if i.is_error] == []
    bad = json.loads(json.dumps(good))
    bad["States"]["P"]["Output"]["id"] = "{% $uuidv4() %}"
    errors = [i for i in lint_text(json.dumps(bad), "bad.asl.json")[1] if i.is_error]
    assert [e.code for e in errors] == ["ASL-E401"] and "$uuidv4()" in errors[0].message


def test_a_jsonata_machine_runs_the_added_functions_end_to_end():
    """The shape of a public sample: an order's items chunked for a batch API, with a request id."""
    definition = {"QueryLanguage": "JSONata", "StartAt": "Prepare", "States": {
        "Prepare": {"Type": "Pass", "Assign": {"requestId": "{% $uuid() %}"},
                    "Output": {"order": "{% $parse($states.input.detail) %}"}, "Next": "Chunk"},
        "Chunk": {"Type": "Pass", "Output": {
            "requestId": "{% $requestId %}",
            "batches": "{% $partition($states.input.order.items, 2) %}",
            "checksum": "{% $hash($string($states.input.order.items), 'SHA-256') %}",
            "pages": "{% $range(1, $ceil($count($states.input.order.items) / 2), 1) %}"}, "End": True}}}
    machine = load_definition_text(json.dumps(definition), "orders.asl.json")
    result = Interpreter(machine, integrations=load_mocks({}), clock=FakeClock()).execute(
        {"detail": json.dumps({"items": ["a", "b", "c"]})})
    assert result.succeeded, result.error
    out = result.output
    assert out["batches"] == [["a", "b"], ["c"]] and out["pages"] == [1, 2]
    assert len(out["checksum"]) == 64 and len(out["requestId"]) == 36
