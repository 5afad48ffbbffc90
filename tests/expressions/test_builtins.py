"""Tests for airflow_cloudflow.expressions.builtins: every documented built-in (§2.7)."""

from __future__ import annotations

import hashlib
import re
import uuid

import pytest

from airflow_cloudflow.exceptions import ErrorCodes, ExpressionSyntaxError, FlowError
from airflow_cloudflow.expressions.builtins import (
    BUILTINS,
    EvaluationError,
    fn_random_int,
    json_equal,
    type_name,
)
from airflow_cloudflow.expressions.cloudflow import compile_expression


def ev(source: str, **variables):
    return compile_expression(source).evaluate(variables)


def fails(source: str, fragment: str, **variables) -> None:
    with pytest.raises(FlowError) as info:
        ev(source, **variables)
    assert info.value.code == ErrorCodes.RUNTIME
    assert fragment in info.value.detail


# --------------------------------------------------------------------------- doc examples


@pytest.mark.parametrize(
    "source, expected",
    [
        ('format("hello {}","world")', "hello world"),
        ("length([1,2,3])", 3),
        ('length({"name":"Tom","age":10})', 2),
        ('length("name")', 4),
        ('arrayContains(["Tom",10],10)', True),
        ('arrayContains(["Tom",10],"Jack")', False),
        ("arrayUnique([1,2,3,1])", [1, 2, 3]),
        (
            'jsonMerge({"name":"Tom","age":10},{"name":"Tom","address":"beijing"})',
            {"name": "Tom", "age": 10, "address": "beijing"},
        ),
        ("stringToJson('{\"name\": \"Tom\", \"age\": 10}')", {"name": "Tom", "age": 10}),
        ('fromBase64("Rm5G")', "FnF"),
        ('hash("abc","MD5")', "900150983cd24fb0d6963f7d28e17f72"),
    ],
)
def test_documented_examples(source, expected):
    assert ev(source) == expected


# --------------------------------------------------------------------------- each function


def test_format_fills_placeholders_in_order_and_renders_non_strings_as_json():
    assert ev('format("{}-{}-{}", "a", 1, [true, null])') == "a-1-[true,null]"
    assert ev('format("no placeholders", "ignored")') == "no placeholders"
    assert ev('format("{} is {}", $Input.name, $Input.map)', Input={"name": "x", "map": {"k": "v"}}) == 'x is {"k":"v"}'
    fails('format("{} {}", "only one")', "2 placeholders but only 1")
    fails("format(1)", "format() argument 1 must be string")


def test_length_rejects_other_types():
    assert ev('length("héllo")') == 5  # characters, not bytes
    fails("length(12)", "must be array or map or string, got number")
    fails("length(null)", "got null")


def test_regex_match_string_is_unanchored_search():
    assert ev("regexMatchString('order-123', '[0-9]+')") is True
    assert ev("regexMatchString('order', '^[0-9]+$')") is False
    assert ev("regexMatchString('123', '^\\d+$')") is True  # single quotes are raw
    fails("regexMatchString('a', '(')", "not a valid regex")
    fails("regexMatchString(1, 'a')", "argument 1 must be string")


def test_regex_match_string_is_linear_time_re2():
    """Python's backtracking ``re`` took seconds on 26 characters and would hang for hours on
    these; RE2 (Go's regexp semantics) answers in linear time."""
    assert ev("regexMatchString($Input.s, '(a+)+$')", Input={"s": "a" * 50_000 + "!"}) is False
    assert ev("regexMatchString($Input.s, '(a|aa)*c')", Input={"s": "a" * 50_000}) is False
    assert ev("regexMatchString($Input.s, '(x+x+)+y')", Input={"s": "x" * 50_000 + "y"}) is True


def test_regex_match_string_follows_go_syntax():
    fails("regexMatchString('aa', '(a)\\1')", "not a valid regex")  # no backreferences in Go/RE2
    fails("regexMatchString('ab', '(?=a)')", "not a valid regex")  # no lookahead either
    assert ev("regexMatchString('héllo', '^h.llo$')") is True  # '.' is one character, not one byte
    assert ev("regexMatchString('x y', '\\bx\\b')") is True
    assert ev("regexMatchString($Input.s, 'a')", Input={"s": "\ud800a"}) is True  # a lone surrogate is U+FFFD, no crash


def test_split():
    assert ev('split("a,b,,c", ",")') == ["a", "b", "", "c"]
    assert ev('split("abc", "")') == ["a", "b", "c"]
    assert ev('split("", ",")') == [""]
    fails('split("a", 1)', "argument 2 must be string")


def test_get_reads_arrays_and_maps_with_null_for_missing():
    assert ev('get(["a","b"], 1)') == "b"
    assert ev('get(["a","b"], 1.0)') == "b"
    assert ev('get(["a","b"], 2)') is None
    assert ev('get(["a","b"], -1)') is None
    assert ev('get({"k": 3}, "k")') == 3
    assert ev('get({"k": 3}, "z")') is None
    fails('get("abc", 0)', "argument 1 must be array or map")
    fails('get([1], "0")', "must be an integer")
    fails('get({"a":1}, 0)', "argument 2 must be string")


def test_int_add():
    assert ev("intAdd(2, 40)") == 42 and type(ev("intAdd(2, 40)")) is int
    assert ev("intAdd(-5, 2.0)") == -3
    fails("intAdd(1.5, 1)", "argument 1 must be an integer")
    fails("intAdd(true, 1)", "argument 1 must be an integer")
    fails('intAdd(1, "2")', "argument 2 must be an integer")


def test_random_int_stays_in_half_open_range():
    seen = {ev("randomInt(3, 6)") for _ in range(200)}
    assert seen <= {3, 4, 5} and len(seen) > 1
    assert ev("randomInt(-2, -1)") == -2  # the only value in [-2, -1)
    fails("randomInt(5, 5)", "min < max")
    with pytest.raises(EvaluationError):
        fn_random_int("1", 3)


def test_array_contains_uses_typed_equality():
    assert ev("arrayContains([1, 2], 2.0)") is True
    assert ev('arrayContains([1, 2], "1")') is False
    assert ev("arrayContains([1], true)") is False
    assert ev('arrayContains([{"a": [1]}], {"a": [1]})') is True
    fails('arrayContains("abc", "a")', "argument 1 must be array")


def test_array_unique_keeps_first_occurrences_with_typed_equality():
    assert ev('arrayUnique([1, "1", true, 1.0, null, null, "1"])') == [1, "1", True, None]
    assert ev('arrayUnique([{"a":1}, [1], {"a":1}, [1], [true]])') == [{"a": 1}, [1], [True]]
    assert ev("arrayUnique([])") == []
    fails("arrayUnique({})", "must be array")


def test_to_array():
    assert ev("toArray()") == []
    assert ev("toArray($Input.a, 1, \"x\")", Input={"a": {"k": 1}}) == [{"k": 1}, 1, "x"]


def test_map_keys_and_values_keep_order():
    assert ev('mapKeys({"b": 1, "a": 2})') == ["b", "a"]
    assert ev('mapValues({"b": 1, "a": [2]})') == [1, [2]]
    fails("mapKeys([1])", "must be map")
    fails("mapValues(1)", "must be map")


def test_json_merge_is_shallow_and_second_wins():
    assert ev('jsonMerge({"a": {"x": 1}, "b": 1}, {"a": {"y": 2}})') == {"a": {"y": 2}, "b": 1}
    fails('jsonMerge({}, [1])', "argument 2 must be map")


def test_string_to_json_and_alias():
    assert ev("fromJSON('[1, \"a\"]')") == [1, "a"]
    assert ev("stringToJson('3.5')") == 3.5
    fails("stringToJson('{bad')", "not valid JSON")
    fails("stringToJson('NaN')", "not valid JSON")
    fails("stringToJson(1)", "must be string")


def test_json_to_string_is_compact_and_keeps_order_and_unicode():
    assert ev('jsonToString({"b": [1, true], "a": "é"})') == '{"b":[1,true],"a":"é"}'
    assert ev('toJSON("x")') == '"x"'
    assert ev("toJSON(stringToJson('{\"k\": null}'))") == '{"k":null}'


def test_base64_round_trip():
    assert ev('toBase64("FnF")') == "Rm5G"
    assert ev('fromBase64(toBase64("héllo ✓"))') == "héllo ✓"
    fails('fromBase64("not base64!")', "not Base64")
    fails('fromBase64("//79")', "not Base64 of UTF-8")  # decodes to invalid UTF-8
    fails("toBase64(1)", "must be string")


@pytest.mark.parametrize(
    "algorithm, expected",
    [
        ("SHA-1", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("SHA-256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("sha-512", hashlib.sha512(b"abc").hexdigest()),
        ("md5", "900150983cd24fb0d6963f7d28e17f72"),
    ],
)
def test_hash_algorithms(algorithm, expected):
    assert ev(f'hash("abc", "{algorithm}")') == expected


def test_hash_rejects_unknown_algorithms_and_non_strings():
    fails('hash("abc", "CRC32")', "algorithm must be one of")
    fails('hash(1, "MD5")', "argument 1 must be string")


def test_uuid_is_a_fresh_version_4_uuid():
    values = {ev("uuid()") for _ in range(50)}
    assert len(values) == 50
    for value in values:
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", value)
        assert str(uuid.UUID(value)) == value


# --------------------------------------------------------------------------- registry


def test_arity_is_checked_at_compile_time_for_every_builtin():
    for name, builtin in BUILTINS.items():
        too_many = builtin.max_args
        if too_many is not None:
            args = ", ".join(["1"] * (too_many + 1))
            with pytest.raises(ExpressionSyntaxError, match="argument"):
                compile_expression(f"{name}({args})")
        if builtin.min_args > 0:
            args = ", ".join(["1"] * (builtin.min_args - 1))
            with pytest.raises(ExpressionSyntaxError, match="argument"):
                compile_expression(f"{name}({args})")


def test_function_names_are_case_sensitive():
    with pytest.raises(ExpressionSyntaxError, match="unknown function 'Length'"):
        compile_expression("Length([1])")


def test_type_name_and_json_equal_helpers():
    assert [type_name(v) for v in (None, True, 1, 1.5, "s", [], {})] == [
        "null", "boolean", "number", "number", "string", "array", "map"]
    assert json_equal({"a": [1, 2.0]}, {"a": [1.0, 2]})
    assert not json_equal({"a": 1}, {"b": 1})
    assert not json_equal(False, 0)
    assert not json_equal(None, False)


def test_format_refuses_to_build_a_string_over_the_bound_before_building_it():
    from airflow_cloudflow.expressions.bounds import MAX_STRING_CHARS
    from airflow_cloudflow.expressions.builtins import EvaluationError, fn_format

    with pytest.raises(EvaluationError) as err:
        fn_format("{}" * 100, *(["x" * 100_000] * 100))
    assert f"format() would build a string of 10000000 characters; the limit is {MAX_STRING_CHARS}" in str(err.value)
    assert fn_format("{}-{}", "a", 1) == "a-1"
