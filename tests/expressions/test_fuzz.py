"""Property tests: compile_expression never fails with anything but ExpressionSyntaxError, never
recurses without bound, and evaluation fails only with FlowError."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_cloudflow.exceptions import ExpressionSyntaxError, FlowError
from airflow_cloudflow.expressions.builtins import BUILTINS
from airflow_cloudflow.expressions.cloudflow import compile_expression

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SAMPLE_VARIABLES = {
    "Input": {"a": 1, "b": "text", "c": [1, "x", None, {"d": True}], "e": {"f": 2.5}, "n": None},
    "Context": {"Current": {"Input": {"Size": 10}}},
    "Global": {},
    "Item": [1, 2],
}

_ATOMS = st.sampled_from(
    ["$Input", "$Input.a", "$Input.b", "$Input.c[2]", "$Input.c[3].d", "$Input.e.f", "$Item[0]",
     "$Output.x", "$Context.Current.Input.Size", "$Global.g", "1", "-2.5", "0", '"s"', "'raw'",
     "`t`", "true", "false", "null", "[]", "{}", '{"k": 1}', "[1, \"a\"]"]
)
_TOKENS = st.sampled_from(
    ["(", ")", "[", "]", "{", "}", ",", ":", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "!", " ",
     "$", ".", "\"", "'", "`", "\\", "-", "1", "a", "$Input", "$Foo", "length(", "format("]
    + [name + "(" for name in BUILTINS]
)


def _expressions():
    def extend(children):
        calls = st.builds(
            lambda name, args: f"{name}({', '.join(args)})",
            st.sampled_from(sorted(BUILTINS)),
            st.lists(children, max_size=3),
        )
        binary = st.builds(
            lambda a, op, b: f"{a} {op} {b}",
            children,
            st.sampled_from(["==", "!=", "<", ">=", "&&", "||"]),
            children,
        )
        return st.one_of(
            calls,
            binary,
            children.map(lambda c: f"!{c}"),
            children.map(lambda c: f"({c})"),
            st.lists(children, max_size=3).map(lambda xs: f"[{', '.join(xs)}]"),
        )

    return st.recursive(_ATOMS, extend, max_leaves=12)


def _compile_or_none(source: str):
    try:
        return compile_expression(source)
    except ExpressionSyntaxError as error:
        assert 0 <= error.position <= len(source)
        return None


def _evaluate(expression) -> None:
    try:
        expression.evaluate(SAMPLE_VARIABLES)
    except FlowError:
        pass


@FUZZ
@given(st.text(max_size=80))
def test_arbitrary_text_compiles_or_raises_syntax_error(source):
    expression = _compile_or_none(source)
    if expression is not None:
        _evaluate(expression)


@FUZZ
@given(st.lists(_TOKENS, max_size=30).map("".join))
def test_token_soup_compiles_or_raises_syntax_error(source):
    expression = _compile_or_none(source)
    if expression is not None:
        _evaluate(expression)


@FUZZ
@given(_expressions())
def test_grammar_generated_expressions_evaluate_or_raise_flow_error(source):
    expression = _compile_or_none(source)
    if expression is not None:
        assert expression.source == source
        _evaluate(expression)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["(", "[", "!", "{\"k\":", "length(", "-", "$Input.", "\""]), st.integers(1, 10_000))
def test_deep_or_long_prefixes_never_hang_or_overflow_the_stack(opener, depth):
    _compile_or_none(opener * depth)
