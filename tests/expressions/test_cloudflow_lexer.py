"""Tests for airflow_cloudflow.expressions.cloudflow_lexer.tokenize."""

from __future__ import annotations

import pytest

from airflow_cloudflow.exceptions import ExpressionSyntaxError
from airflow_cloudflow.expressions.cloudflow_lexer import tokenize


def kinds_values(source: str):
    return [(t.kind, t.value) for t in tokenize(source)]


def test_path_is_one_token_with_steps_and_text():
    (path, end) = tokenize('$Input.a-b[2]["x y"].c')
    assert path.kind == "path" and path.position == 0
    assert path.value == ("Input", ((False, "a-b"), (True, 2), (False, "x y"), (False, "c")), '$Input.a-b[2]["x y"].c')
    assert end.kind == "end" and end.position == 22


def test_operators_punctuation_and_literals_with_positions():
    tokens = tokenize('f(-1, 2.5) >= "a" && !x')
    assert [(t.kind, t.value, t.position) for t in tokens] == [
        ("name", "f", 0), ("punct", "(", 1), ("number", -1, 2), ("punct", ",", 4),
        ("number", 2.5, 6), ("punct", ")", 9), ("op", ">=", 11), ("string", "a", 14),
        ("op", "&&", 18), ("op", "!", 21), ("name", "x", 22), ("end", None, 23),
    ]


def test_number_types():
    assert kinds_values("7 7.0 1E2") == [("number", 7), ("number", 7.0), ("number", 100.0), ("end", None)]
    assert type(tokenize("7")[0].value) is int


def test_string_quoting_rules():
    assert tokenize('"tab\\t\\"q\\""')[0].value == 'tab\t"q"'
    assert tokenize("'no \\n escapes'")[0].value == "no \\n escapes"
    assert tokenize("`it's`")[0].value == "it's"


@pytest.mark.parametrize(
    "source, position",
    [("1e999", 0), ("9" * 5000, 0), ("12abc", 0), ("&", 0), ("a | b", 2), ("$Input.a[1", 10), ('$Input["k"', 10), ("#", 0), ("$Input[" + "9" * 5000 + "]", 7)],
)
def test_lexical_errors_have_positions(source, position):
    with pytest.raises(ExpressionSyntaxError) as info:
        tokenize(source)
    assert info.value.position == position
