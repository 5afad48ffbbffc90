"""Fuzz: arbitrary text either compiles or raises ExpressionSyntaxError — nothing else, quickly."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_cloudflow.exceptions import ExpressionSyntaxError
from airflow_cloudflow.expressions.asl.payload import compile_binding
from airflow_cloudflow.expressions.asl.intrinsics import compile_intrinsic
from airflow_cloudflow.expressions.asl.jsonpath import compile_path

ALPHABET = st.sampled_from(list("$@.[]()*?:,'\"\\{}-=<>!&| 0123456789abStaesArryFomt_\n")) | st.characters()
TEXT = st.text(ALPHABET, max_size=80)
PREFIXED = st.builds(lambda a, b: "States." + a + b, st.sampled_from(["Array(", "Format(", "MathAdd(", "X("]), TEXT)
PATHS = st.builds(lambda a: "$" + a, TEXT)


def _compiles_or_syntax_error(compiler, text):
    try:
        compiler(text)
    except ExpressionSyntaxError as exc:
        assert 0 <= exc.position <= len(text)


@settings(max_examples=300, deadline=500)
@given(st.one_of(TEXT, PREFIXED))
def test_intrinsic_compiler_total(text):
    _compiles_or_syntax_error(compile_intrinsic, text)


@settings(max_examples=300, deadline=500)
@given(st.one_of(TEXT, PATHS))
def test_path_compiler_total(text):
    _compiles_or_syntax_error(compile_path, text)


@settings(max_examples=200, deadline=500)
@given(st.one_of(TEXT, PATHS, PREFIXED))
def test_binding_compiler_total(text):
    _compiles_or_syntax_error(compile_binding, text)


@settings(max_examples=20, deadline=2000)
@given(st.integers(min_value=1, max_value=5000), st.sampled_from(["States.Array(", "$[?(", "$[?((", "$[?(!", "$['", "$[?(@[?("]))
def test_deep_nesting_is_bounded(depth, opener):
    text = opener * depth
    _compiles_or_syntax_error(compile_intrinsic if opener.startswith("States") else compile_path, text)
