"""Memory bounds of one JSONata evaluation (``jsonata_bounds.py``): hostile expressions end with a
coded ``States.QueryEvaluationError`` naming the bound, quickly and without the memory they ask for."""

from __future__ import annotations

import resource
import time

import pytest

from airflow_cloudflow.exceptions import FlowError
from airflow_cloudflow.expressions.bounds import MAX_STRING_CHARS
from airflow_cloudflow.expressions.asl.jsonata_bounds import MAX_ARRAY_ITEMS, MAX_BUILT_CHARS
from airflow_cloudflow.expressions.asl.jsonata_expr import compile_jsonata

HOSTILE = {
    # 1M characters each replaced by 400: 400 million characters in half a second before the bound
    "replace": ("{% $replace($pad('', 1000000, 'a'), 'a', $pad('', 400, 'b')) %}", "$replace would build"),
    "replace-regex": ("{% $replace($pad('', 1000000, 'a'), /a/, $pad('', 400, 'b')) %}", "$replace would build"),
    # 3,000 strings of 1M characters: 3 GB before the 10 s time limit
    "map-pad": ("{% $map([1..3000], function($i){ $pad('', 1000000, 'x') }) %}", f"more than {MAX_BUILT_CHARS}"),
    "concat-doubling": ("{% ($f := function($s, $n){ $n = 0 ? $s : $f($s & $s, $n - 1) }; $f('ab', 40)) %}",
                        f"the limit is {MAX_STRING_CHARS}"),
    "join-shared": ("{% ($s := $pad('', 1000000, 'x'); $join([$s,$s,$s,$s,$s,$s,$s,$s,$s,$s])) %}", "$join would build"),
    "string-shared": ("{% ($s := $pad('', 1000000, 'x'); $string([$s,$s,$s,$s,$s,$s,$s,$s,$s,$s])) %}",
                      "$string would build"),
    "split": ("{% $split($pad('', 1000000, 'x') & $pad('', 1000000, 'y'), '') %}", f"the limit is {MAX_ARRAY_ITEMS}"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_expressions_stop_at_a_memory_bound(name):
    source, bound = HOSTILE[name]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    with pytest.raises(FlowError) as info:
        compile_jsonata(source, "Output").evaluate({"input": {}})
    assert info.value.code == "States.QueryEvaluationError"
    assert bound in info.value.detail
    assert time.monotonic() - start < 5
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 300, f"peak RSS grew {grown_mib:.0f} MiB"


def test_the_bounds_count_per_evaluation_and_leave_ordinary_expressions_alone():
    expression = compile_jsonata("{% $join($map([1..20], function($i){ $pad('', 1000000, 'x') }), '') %}", "Output")
    with pytest.raises(FlowError):
        expression.evaluate({"input": {}})
    small = compile_jsonata("{% $join($map($states.input.items, function($v){ $uppercase($v) }), '-') & "
                            "$replace('hello', /l/, 'L') & $string({'a': [1, 2]}) & $string($split('a,b', ',')) %}")
    for _ in range(3):  # repeated evaluations of one compiled expression do not accumulate
        assert small.evaluate({"input": {"items": ["a", "b"]}}) == 'A-BheLLo{"a":[1,2]}["a","b"]'
    big = compile_jsonata("{% $length($pad('', 1000000, 'x') & $pad('', 1000000, 'y')) %}")
    for _ in range(20):
        assert big.evaluate({"input": {}}) == 2_000_000
