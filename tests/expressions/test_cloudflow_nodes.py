"""Tests for airflow_cloudflow.expressions.cloudflow_nodes (closure building and folding)."""

from __future__ import annotations

import pytest

from airflow_cloudflow.expressions.builtins import EvaluationError
from airflow_cloudflow.expressions import cloudflow_nodes as nodes


def test_constant_children_are_folded():
    node = nodes.call_node("length", (nodes.constant([1, 2]),))
    assert node.is_constant and node.constant == 2


def test_non_deterministic_calls_are_never_folded():
    node = nodes.call_node("randomInt", (nodes.constant(0), nodes.constant(1)))
    assert not node.is_constant and node.run({}) == 0


def test_failing_constant_is_left_to_fail_at_evaluation():
    node = nodes.comparison_node("<", nodes.constant(1), nodes.constant("a"))
    assert not node.is_constant
    with pytest.raises(EvaluationError, match="cannot compare number < string"):
        node.run({})


def test_path_node_reads_variables_at_run_time():
    node = nodes.path_node("Item", ((False, "k"), (True, 0)), "$Item.k[0]")
    assert not node.is_constant
    assert node.run({"Item": {"k": ["v"]}}) == "v"
    assert node.run({"Item": {"k": []}}) is None
    with pytest.raises(EvaluationError, match=r"\$Item is not available"):
        node.run({})


def test_object_and_array_nodes_build_fresh_containers():
    path = nodes.path_node("Input", (), "$Input")
    obj = nodes.object_node((("a", path), ("b", nodes.constant(1))))
    arr = nodes.array_node((path,))
    first, second = obj.run({"Input": 5}), obj.run({"Input": 5})
    assert first == {"a": 5, "b": 1} and first is not second
    assert arr.run({"Input": 5}) == [5] and arr.run({"Input": 5}) is not arr.run({"Input": 5})
