"""Tests for airflow_cloudflow.expressions.cloudflow: grammar, paths, operators, errors, conformance."""

from __future__ import annotations

import json

import pytest
import yaml

from airflow_cloudflow.exceptions import ErrorCodes, ExpressionSyntaxError, FlowError
from airflow_cloudflow.expressions.cloudflow import (
    MAX_FUNCTION_NESTING,
    CloudFlowExpression,
    compile_expression,
)
from tests.conftest import CLOUDFLOW_CASES_DIR

VARIABLES = {
    "Input": {
        "a": {"b": [10, {"c": "deep"}]},
        "amount": 150,
        "currency": "USD",
        "status": True,
        "name": "Ann",
        "x-request-id": "r-1",
        "with space": 5,
        "nothing": None,
        "ratio": 1.0,
    },
    "Output": {"output": {"choices": [{"message": {"content": "hi"}}]}},
    "Context": {"Execution": {"Name": "e1", "Input": {"k": 1}}, "Current": {"Input": {"Size": 2048}}},
    "Global": {"g": "G"},
}


def ev(source: str, variables: dict | None = None):
    return compile_expression(source).evaluate(VARIABLES if variables is None else variables)


def syntax_error(source: str) -> ExpressionSyntaxError:
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_expression(source)
    assert info.value.expression == source
    return info.value


def runtime_error(source: str, variables: dict | None = None) -> FlowError:
    with pytest.raises(FlowError) as info:
        ev(source, variables)
    assert info.value.code == ErrorCodes.RUNTIME
    assert repr(source) in info.value.detail  # the detail names the expression
    return info.value


# --------------------------------------------------------------------------- paths


@pytest.mark.parametrize(
    "source, expected",
    [
        ("$Input.name", "Ann"),
        ("$Input.a.b[0]", 10),
        ("$Input.a.b[1].c", "deep"),
        ("$Output.output.choices[0].message.content", "hi"),
        ("$Context.Execution.Input.k", 1),
        ("$Context.Current.Input.Size", 2048),
        ("$Global.g", "G"),
        ("$Input.x-request-id", "r-1"),
        ('$Input["with space"]', 5),
        ("$Input['x-request-id']", "r-1"),
        ("$Input.a.b[ 0 ]", 10),
    ],
)
def test_path_lookup(source, expected):
    assert ev(source) == expected


def test_bare_variable_is_the_whole_value():
    assert ev("$Input") is VARIABLES["Input"]
    assert ev("$Item", {"Item": [1, 2]}) == [1, 2]


@pytest.mark.parametrize(
    "source", ["$Input.missing", "$Input.missing.deeper", "$Input.a.b[5]", "$Input.nothing.x", "$Input.nothing[0]"]
)
def test_missing_key_out_of_range_and_steps_into_null_give_null(source):
    assert ev(source) is None


def test_absence_can_be_tested_with_null():
    assert ev("$Input.missing == null") is True
    assert ev("$Input.name == null") is False


@pytest.mark.parametrize(
    "source, fragment",
    [("$Input.name.first", "cannot read field 'first' of string"), ("$Input.a[0]", "cannot index map"),
     ("$Input.amount[1]", "cannot index number"), ("$Input.a.b.c", "of array")],
)
def test_stepping_into_a_scalar_or_indexing_a_non_array_fails(source, fragment):
    error = runtime_error(source)
    assert fragment in error.detail
    assert source.split("[")[0].split(".")[0] in error.detail


@pytest.mark.parametrize("source, name", [("$Item.x", "$Item"), ("$Output", "$Output")])
def test_unavailable_variable_is_named(source, name):
    error = runtime_error(source, {"Input": {}})
    assert f"{name} is not available" in error.detail


def test_roots_lists_the_variables_read():
    assert compile_expression("format('{}{}', $Input.a, $Item)").roots == {"Input", "Item"}
    assert compile_expression('"x"').roots == frozenset()


# --------------------------------------------------------------------------- literals


@pytest.mark.parametrize(
    "source, expected",
    [
        ('"a\\nb\\u00e9"', "a\nb\u00e9"),
        ("'raw \\d'", "raw \\d"),
        ("`back'tick`", "back'tick"),
        ("12", 12),
        ("12.5", 12.5),
        ("-3", -3),
        ("1e3", 1000.0),
        ("true", True),
        ("false", False),
        ("null", None),
        ("[1, \"a\", [true]]", [1, "a", [True]]),
        ('{"a": 1, "b": {"c": null}}', {"a": 1, "b": {"c": None}}),
        ("[]", []),
        ("{}", {}),
    ],
)
def test_literals(source, expected):
    value = ev(source)
    assert value == expected and type(value) is type(expected)


def test_container_literals_may_hold_expressions():
    assert ev('{"who": $Input.name, "n": [$Input.amount, 1]}') == {"who": "Ann", "n": [150, 1]}
    assert ev("[$Input.a.b[0], toArray($Input.name, 1)]") == [10, ["Ann", 1]]


def test_constant_expressions_are_folded_and_marked():
    expression = compile_expression('length([1,2,3]) == 3 && "a" < "b"')
    assert expression.is_constant and expression.evaluate({}) is True
    assert not compile_expression("$Input.a").is_constant
    assert not compile_expression("uuid()").is_constant  # never frozen at compile time
    assert compile_expression("uuid()").evaluate({}) != compile_expression("uuid()").evaluate({})


# --------------------------------------------------------------------------- operators


@pytest.mark.parametrize(
    "source, expected",
    [
        ("$Input.amount > 100", True),
        ("$Input.amount >= 150", True),
        ("$Input.amount < 150", False),
        ("$Input.amount <= 149.5", False),
        ("$Input.ratio == 1", True),  # numbers compare by value
        ('$Input.status == "true"', False),  # typed: boolean vs string
        ("$Input.status == true", True),
        ('1 == "1"', False),
        ("true == 1", False),
        ("null == false", False),
        ('$Input.name != "Bob"', True),
        ('"apple" < "banana"', True),
        ('"Z" < "a"', True),  # code-point order
        ("[1, {\"a\": 1}] == [1.0, {\"a\": 1}]", True),
        ("[true] == [1]", False),
        ('!($Input.currency == "USD")', False),
        ("!false == true", True),  # ! binds tighter than ==
        ("true || false && false", True),  # && binds tighter than ||
        ("(true || false) && false", False),
        ("!!true", True),
    ],
)
def test_operators(source, expected):
    assert ev(source) is expected


def test_and_or_short_circuit():
    # the right operand would fail (not a boolean / missing variable) but is never evaluated
    assert ev("false && $Item.x", {"Input": {}}) is False
    assert ev("true || 1", {}) is True


@pytest.mark.parametrize(
    "source, fragment",
    [
        ('1 < "a"', "cannot compare number < string"),
        ("null >= 1", "cannot compare null >= number"),
        ("true > false", "cannot compare boolean > boolean"),
        ("1 && true", "operand of && must be boolean, got number"),
        ('false || "yes"', "operand of || must be boolean, got string"),
        ("!$Input.name", "operand of ! must be boolean, got string"),
    ],
)
def test_type_mismatches_fail_with_types_named(source, fragment):
    assert fragment in runtime_error(source).detail


def test_error_detail_never_contains_values():
    secret = "s3cr3t-token"
    error = runtime_error("$Input.token > 1", {"Input": {"token": secret}})
    assert secret not in error.detail


# --------------------------------------------------------------------------- syntax errors


@pytest.mark.parametrize(
    "source, position, fragment",
    [
        ("", 0, "empty expression"),
        ("   ", 3, "empty expression"),
        ('format("abc', 7, "unterminated string"),
        ("'abc", 0, "unterminated string"),
        ("nosuch(1)", 0, "unknown function 'nosuch'"),
        ("length(1) + 2", 10, "unexpected character '+'"),
        ("$Input.a = 1", 9, "use =="),
        ("(1 == 2", 7, "expected ')'"),
        ("length([1,2]", 12, "expected ',' or ')'"),
        ("$Input.a $Input.b", 9, "after the expression"),
        ("1 2", 2, "after the expression"),
        ("$Foo.x", 0, "unknown variable $Foo"),
        ("$", 0, "expected a variable name"),
        ("$Input.", 7, "expected a field name"),
        ("$Input.a[x]", 9, "index or a quoted key"),
        ("$Input.a[-1]", 9, "index or a quoted key"),
        ("ready", 0, "unknown name 'ready'"),
        ("01", 0, "malformed number"),
        ("1.", 0, "malformed number"),
        ('"\\q"', 1, "bad string escape"),
        ("1 < 2 < 3", 6, "cannot be chained"),
        ("length()", 0, "takes 1 argument(s), got 0"),
        ("hash('a')", 0, "takes 2 argument(s), got 1"),
        ('{"a": 1, "a": 2}', 9, "duplicate key 'a'"),
        ("{a: 1}", 1, "expected a quoted key"),
        ("[1,]", 3, "unexpected ']'"),
        ("1 ==", 4, "unexpected end of expression"),
    ],
)
def test_syntax_errors_carry_position(source, position, fragment):
    error = syntax_error(source)
    assert fragment in error.message
    assert error.position == position
    assert f"position {position}" in str(error)


def test_function_nesting_limit_is_ten():
    ten = "toArray(" * MAX_FUNCTION_NESTING + "1" + ")" * MAX_FUNCTION_NESTING
    expected: object = 1
    for _ in range(MAX_FUNCTION_NESTING):
        expected = [expected]
    assert ev(ten, {}) == expected
    source = "toArray(" * (MAX_FUNCTION_NESTING + 1) + ")" * (MAX_FUNCTION_NESTING + 1)
    error = syntax_error(source)
    assert "nested function calls" in error.message
    assert error.position == len("toArray(") * MAX_FUNCTION_NESTING  # the 11th call's name


def test_sibling_calls_do_not_count_as_nesting():
    source = "toArray(" + ", ".join(["length([1])"] * 20) + ")"
    assert ev(source, {}) == [1] * 20


@pytest.mark.parametrize("opener", ["(", "[", "!", '{"a":'])
def test_deep_nesting_is_a_syntax_error_not_a_recursion_error(opener):
    error = syntax_error(opener * 10_000)
    assert "nested more than" in error.message


def test_non_string_source_is_a_syntax_error():
    with pytest.raises(ExpressionSyntaxError):
        compile_expression(12)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- compiled object


def test_compile_is_memoised_and_immutable():
    first = compile_expression("$Input.amount > 1")
    assert compile_expression("$Input.amount > 1") is first
    assert isinstance(first, CloudFlowExpression) and first.source == "$Input.amount > 1"
    with pytest.raises(AttributeError):
        first.source = "x"  # type: ignore[misc]


def test_evaluation_does_not_mutate_variables():
    variables = json.loads(json.dumps(VARIABLES))
    snapshot = json.dumps(variables, sort_keys=True)
    for source in ('jsonMerge($Input.a, {"z": 1})', "arrayUnique($Input.a.b)", "mapKeys($Input)"):
        ev(source, variables)
    assert json.dumps(variables, sort_keys=True) == snapshot


# --------------------------------------------------------------------------- conformance corpus


def _load_case(name: str) -> dict:
    case = json.loads((CLOUDFLOW_CASES_DIR / f"{name}.json").read_text())
    case["definition"] = yaml.safe_load(case["definition_yaml"])
    return case


_BUILTIN_CASES = sorted(p.stem for p in CLOUDFLOW_CASES_DIR.glob("doc_builtin_*.json")) + [
    "sem_builtin_with_input_paths"
]


@pytest.mark.parametrize("name", _BUILTIN_CASES)
def test_conformance_builtin_cases(name):
    """Each case is one Pass whose InputConstructor holds ``.$`` expressions; its output is the
    evaluated constructor."""
    case = _load_case(name)
    (state,) = case["definition"]["States"]
    computed = {
        key[:-2]: compile_expression(source).evaluate({"Input": case["input"]})
        for key, source in state["InputConstructor"].items()
        if key.endswith(".$")
    }
    assert computed == case["expected"]["output"]


_CHOICE_CASES = sorted(p.stem for p in CLOUDFLOW_CASES_DIR.glob("*choice*.json"))


@pytest.mark.parametrize("name", _CHOICE_CASES)
def test_conformance_choice_cases(name):
    """"Branch conditions are evaluated in order. The first one that evaluates to true wins. If
    none match, the flow goes to Default." The chosen state must explain the expected outcome."""
    case = _load_case(name)
    states = {s["Name"]: s for s in case["definition"]["States"]}
    choice = states[case["definition"]["StartAt"]]
    data = case["input"]
    variables = {"Input": data, "Context": {"Execution": {"Input": data}, "Current": {"Input": data}}}
    target = next(
        (b["Next"] for b in choice["Branches"] if compile_expression(b["Condition"]).evaluate(variables) is True),
        choice["Default"],
    )
    expected, chosen = case["expected"], states[target]
    if "visited_states" in expected:
        assert expected["visited_states"][1] == target
    elif expected["status"] == "Failed":
        assert chosen["Type"] == "Fail" and chosen["Code"] == expected["error"]["Code"]
    else:
        assert chosen["InputConstructor"]["route"] == expected["output"]["route"]
