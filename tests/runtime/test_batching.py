"""ItemBatcher boundaries (conformance rule 3)."""

from __future__ import annotations

import json

from airflow_cloudflow.runtime.batching import batch_overhead, iter_batches, json_size

ITEMS = [{"key": 1}, {"key": 2}, {"key": 3}]


def compact(value) -> int:
    return len(json.dumps(value, separators=(",", ":")))


def test_sizes_follow_the_compact_json_rule():
    assert batch_overhead(None) == compact({"BatchInput": None, "Items": []})
    assert json_size({"k": "é"}) == len('{"k":"é"}'.encode("utf-8"))


def test_exactly_at_the_byte_limit_fits():
    limit = compact({"BatchInput": None, "Items": ITEMS[:2]})  # 49, the seed's example
    assert limit == 49
    assert list(iter_batches(ITEMS, max_bytes=limit)) == [(0, ITEMS[:2]), (2, ITEMS[2:])]


def test_one_byte_under_the_limit_splits_earlier():
    limit = compact({"BatchInput": None, "Items": ITEMS[:2]}) - 1
    assert list(iter_batches(ITEMS, max_bytes=limit)) == [(0, ITEMS[:1]), (1, ITEMS[1:2]), (2, ITEMS[2:])]


def test_batch_input_counts_toward_size():
    bi = {"b": "x" * 20}
    limit = compact({"BatchInput": bi, "Items": ITEMS[:2]})
    assert [len(b) for _, b in iter_batches(ITEMS, max_bytes=limit, batch_input=bi)] == [2, 1]
    assert [len(b) for _, b in iter_batches(ITEMS, max_bytes=limit)] == [3]  # without it, all fit


def test_oversized_single_item_forms_a_batch_of_one():
    big = {"data": "x" * 100}
    assert list(iter_batches([big, {"a": 1}], max_bytes=20)) == [(0, [big]), (1, [{"a": 1}])]


def test_max_items_applies_with_bytes():
    assert [len(b) for _, b in iter_batches(ITEMS * 3, max_items=2, max_bytes=10_000)] == [2, 2, 2, 2, 1]


def test_count_only_and_no_limits():
    assert [first for first, _ in iter_batches(range(7), max_items=3)] == [0, 3, 6]
    assert list(iter_batches(range(3))) == [(0, [0, 1, 2])]
    assert list(iter_batches([])) == []


def test_streams_lazily():
    def endless():
        n = 0
        while True:
            yield n
            n += 1

    batches = iter_batches(endless(), max_items=2)
    assert next(batches) == (0, [0, 1]) and next(batches) == (2, [2, 3])


def test_lone_surrogate_counts_as_the_replacement_character():
    assert json_size("\ud800") == json_size("\ufffd") == 5
    batches = list(iter_batches(["a\udfff", "b"], max_bytes=1000))
    assert batches == [(0, ["a\udfff", "b"])]
