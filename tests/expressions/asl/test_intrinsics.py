"""Intrinsic calls: parsing (escapes, nesting, literals), every function, and the failure kinds."""

from __future__ import annotations

import re

import pytest

from airflow_cloudflow.exceptions import ExpressionSyntaxError, FlowError
from airflow_cloudflow.expressions.asl.functions import JavaRandom, java_round
from airflow_cloudflow.expressions.asl.intrinsics import compile_intrinsic, is_intrinsic
from airflow_cloudflow.expressions.asl.jsonpath import PathNotFound

VARS = {
    "input": {"a": [1, 2, 3], "s": "x,y", "o": {"k": "v"}, "n": 2, "t": "{} and {}"},
    "context": {"StateMachine": {"Id": "i", "Name": "n-m"}},
    "variables": {"v": [5, 6]},
}


def ev(source: str):
    return compile_intrinsic(source).evaluate(VARS)


@pytest.mark.parametrize(
    "source, expected",
    [
        ("States.Format('a {} b', $.n)", "a 2 b"),
        (r"States.Format('esc \{\} \' \\ {}', 1)", "esc {} ' \\ 1"),
        ("States.Format('{}|{}|{}|{}', $.a, $.o, true, null)", "[1, 2, 3]|{k=v}|true|null"),
        ("States.Format($.t, 'x', 1.5)", "x and 1.5"),
        ("States.StringToJson('{\"a\": [1]}')", {"a": [1]}),
        ("States.StringToJson('  ')", None),
        ("States.JsonToString($.o)", '{"k":"v"}'),
        ("States.Array()", []),
        ("States.Array(1, 'two', $.o, $v)", [1, "two", {"k": "v"}, [5, 6]]),
        ("States.ArrayPartition($.a, 2)", [[1, 2], [3]]),
        ("States.ArrayContains($.a, 2)", True),
        ("States.ArrayContains(States.Array(1), true)", False),
        ("States.ArrayRange(0, 10, 3)", [0, 3, 6, 9]),
        ("States.ArrayRange(5, 1, -2)", [5, 3, 1]),
        ("States.ArrayGetItem($.a, 1)", 2),
        ("States.ArrayLength($.a)", 3),
        ("States.ArrayUnique(States.Array(1, 1.0, true, 'x', 'x', $.o, $.o))", [1, True, "x", {"k": "v"}]),
        ("States.Base64Encode('Data to encode')", "RGF0YSB0byBlbmNvZGU="),
        ("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')", "Data to encode"),
        ("States.Hash('input data', 'MD5')", "812f45842bc6d66ee14572ce20db8e86"),
        ("States.JsonMerge($.o, States.StringToJson('{\"k\": 1, \"z\": 2}'), false)", {"k": 1, "z": 2}),
        ("States.MathAdd(1.5, -2.5)", 0),
        ("States.MathAdd($.n, -1)", 1),
        ("States.StringSplit('a.b+c', '.+')", ["a", "b", "c"]),
        ("States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), 1)", "m"),
        ("  States.ArrayLength( $.a )  ", 3),
        ("States.Array(-1, 2.5, 1e2)", [-1, 2.5, 100.0]),
    ],
)
def test_evaluate(source, expected):
    assert ev(source) == expected


def test_math_add_rounds_half_up_like_java():
    assert [java_round(x) for x in (0.5, 1.5, 2.5, -0.5, -1.5, -1.51, 1.49)] == [1, 2, 3, 0, -1, -2, 1]


def test_math_random_seeded_is_reproducible_and_in_range():
    first = ev("States.MathRandom(1, 100, 42)")
    assert first == ev("States.MathRandom(1, 100, 42)")
    assert 1 <= first < 100
    assert all(0 <= ev("States.MathRandom(0, 3)") < 3 for _ in range(20))


def test_java_random_matches_java_util_random():
    # new java.util.Random(42).nextInt(10) == 0, new Random(0).nextInt(100) == 60 (JDK values)
    assert JavaRandom(42).next_int(10) == 0
    assert JavaRandom(0).next_int(100) == 60


def test_uuid_is_a_v4_uuid_and_not_constant():
    a, b = ev("States.UUID()"), ev("States.UUID()")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", a)
    assert a != b


@pytest.mark.parametrize(
    "source",
    [
        "States.ArrayGetItem($.a, 9)",
        "States.ArrayPartition($.a, 0)",
        "States.ArrayRange(0, 5000, 1)",
        "States.ArrayRange(0, 5, 0)",
        "States.StringToJson('{nope')",
        "States.StringToJson('[NaN]')",
        "States.StringToJson('{\"x\": -Infinity}')",
        "States.StringToJson('" + "[" * 100_000 + "]" * 100_000 + "')",
        "States.Base64Decode('***')",
        "States.Hash('x', 'SHA-3')",
        "States.ArrayLength($.s)",
        "States.MathAdd($.s, 1)",
        "States.MathRandom(5, 5)",
        "States.Format($.t, 1)",
        "States.JsonMerge($.o, $.o, $.n)",
    ],
)
def test_runtime_failures_are_intrinsic_failures(source):
    with pytest.raises(FlowError) as info:
        ev(source)
    assert info.value.code == "States.IntrinsicFailure"
    assert info.value.detail


def test_missing_path_argument_is_a_runtime_path_error():
    with pytest.raises(PathNotFound) as info:
        ev("States.ArrayLength($.nope)")
    assert info.value.path == "$.nope"


@pytest.mark.parametrize(
    "source, position",
    [
        ("States.Nope(1)", 0),
        ("States.Array(", 13),
        ("States.Array(1 2)", 15),
        ("States.Array('abc", 13),
        (r"States.Array('\n')", 14),
        ("States.ArrayLength()", 0),
        ("States.ArrayLength(1)", 19),
        ("States.Format('{} {}', 1)", 0),
        ("States.JsonMerge($.a, $.b, true)", 27),
        ("States.UUID() x", 14),
        ("Format('x')", 0),
        ("States.Array(truex)", 13),
        ("States.Array(@.a)", 13),
    ],
)
def test_syntax_errors_carry_position(source, position):
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_intrinsic(source)
    assert info.value.position == position


def test_nesting_is_bounded():
    deep = "States.Array(" * 100 + ")" * 100
    with pytest.raises(ExpressionSyntaxError, match="nested too deeply"):
        compile_intrinsic(deep)
    ok = "States.Array(" * 10 + ")" * 10
    expected: list = []
    for _ in range(9):
        expected = [expected]
    assert compile_intrinsic(ok).evaluate(VARS) == expected


def test_is_intrinsic_and_paths():
    assert is_intrinsic(" States.UUID()") and not is_intrinsic("$.a") and not is_intrinsic(3)
    call = compile_intrinsic("States.Array($.a, States.ArrayLength($$.x), 1)")
    assert [p.source for p in call.paths()] == ["$.a", "$$.x"]
    assert call.name == "States.Array"


def test_string_to_json_of_a_pipes_batch_with_dot_bracket_path():
    """EventBridge Pipes enrichment shape: the input is the batch array, ``$.[0]`` its first record."""
    call = compile_intrinsic("States.StringToJson($.[0].body)")
    assert call.evaluate({"input": [{"body": '{"orderId": "o-1"}'}]}) == {"orderId": "o-1"}
    assert [p.source for p in call.paths()] == ["$.[0].body"]


def test_format_refuses_to_build_a_string_over_the_bound_before_building_it():
    from airflow_cloudflow.expressions.bounds import MAX_STRING_CHARS

    template = "'" + "{}" * 100 + "'"
    source = f"States.Format({template}, {', '.join(['$.big'] * 100)})"
    with pytest.raises(FlowError) as err:
        compile_intrinsic(source).evaluate({"input": {"big": "x" * 100_000}})
    assert err.value.code == "States.IntrinsicFailure"
    assert f"States.Format would build a string of 10000000 characters; the limit is {MAX_STRING_CHARS}" in err.value.detail


def test_a_number_beyond_a_double_is_an_intrinsic_failure_not_a_crash():
    """Issue 14 (found with the CLI fuzzer): an integer too large for a double raised OverflowError
    out of States.MathAdd."""
    big = 10 ** 308 * 5
    for source in ("States.MathAdd($.n, 1)", "States.MathAdd(1, $.n)"):
        with pytest.raises(FlowError) as err:
            compile_intrinsic(source).evaluate({**VARS, "input": {"n": big}})
        assert err.value.code == "States.IntrinsicFailure" and "OverflowError" in err.value.detail
