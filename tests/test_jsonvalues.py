"""``jsonvalues``: the strict decoder for JSON from users, and the writer that never emits NaN."""

from __future__ import annotations

import json

import pytest

from airflow_cloudflow.jsonvalues import (
    MAX_DEPTH, NestedTooDeeply, NonJsonConstant, NumberOutOfRange, RejectedJson, check_depth, dumps_strict,
    loads_strict,
)


@pytest.mark.parametrize("text, error", [
    ('{"x": NaN}', NonJsonConstant),
    ("[Infinity]", NonJsonConstant),
    ("-Infinity", NonJsonConstant),
    ("9" * 4301, NumberOutOfRange),
    ("9" * 309, NumberOutOfRange),  # beyond a double, which Go reads every number as
    ("-" + "9" * 4301, NumberOutOfRange),
    ("1e400", NumberOutOfRange),
    ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), NestedTooDeeply),
    ("[" * 5000 + "]" * 5000, NestedTooDeeply),  # past the recursion limit too
])
def test_loads_strict_refuses_what_a_run_cannot_carry(text, error):
    with pytest.raises(error):
        loads_strict(text)


def test_loads_strict_accepts_standard_json_at_the_limits():
    assert loads_strict("9" * 308) == int("9" * 308)  # within a double's range, kept exact
    assert loads_strict("[" * MAX_DEPTH + "]" * MAX_DEPTH) == check_depth(json.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH))
    assert loads_strict('{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}
    with pytest.raises(json.JSONDecodeError):
        loads_strict("{not json")


@pytest.mark.parametrize("value", [float("nan"), [float("inf")], {"a": -float("inf")}, 10 ** 5000],
                         ids=["nan", "inf", "-inf", "huge-int"])
def test_dumps_strict_never_writes_non_standard_json(value):
    with pytest.raises(RejectedJson):
        dumps_strict(value)
    assert dumps_strict({"a": [1, 2.5]}) == '{"a": [1, 2.5]}'
