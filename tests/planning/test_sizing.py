"""The shard planner: shards by cost and parallelism, with the overrides."""

from __future__ import annotations

import pytest

from airflow_cloudflow.planning.sizing import ShardCosts, plan_shards, split_concurrency, threads_per_shard

COSTS = ShardCosts(overhead_seconds=1.0, child_seconds=0.00005, min_work_ratio=2.0)


@pytest.mark.parametrize(
    "children, parallel, count",
    [
        (1_000_000, 2, 2),  # 50 s of work: one shard per slot
        (1_000_000, 16, 16),
        (100_000, 2, 2),  # 5 s of work pays for two fixed costs of 1 s × 2
        (100_000, 16, 2),  # … but not for 16
        (50_000, 16, 1),  # 2.5 s: one shard
        (10, 16, 1),
    ],
)
def test_one_shard_per_slot_unless_the_children_cannot_pay_for_it(children, parallel, count):
    plan = plan_shards(children, parallel=parallel, max_shards=256, costs=COSTS)
    assert plan.count == count
    assert plan.size * plan.count >= children > plan.size * (plan.count - 1)


def test_heavier_children_pay_for_more_shards():
    heavy = ShardCosts(overhead_seconds=1.0, child_seconds=0.01)
    assert plan_shards(1_000, parallel=16, max_shards=256, costs=heavy).count == 5
    assert plan_shards(100_000, parallel=16, max_shards=256, costs=heavy).count == 16


def test_max_shards_caps_the_plan_and_shard_size_replaces_it():
    assert plan_shards(1_000_000, parallel=64, max_shards=8, costs=COSTS).count == 8
    fixed = plan_shards(25, parallel=64, max_shards=100, shard_size=5)
    assert (fixed.count, fixed.size) == (5, 5) and "shard_size 5" in fixed.reason
    grown = plan_shards(25, parallel=64, max_shards=4, shard_size=5)
    assert (grown.count, grown.size) == (4, 7) and "grown to 7" in grown.reason
    assert plan_shards(1_000_000, parallel=1, max_shards=256, shard_size=1000).size == 3907


def test_no_children_no_shards():
    assert plan_shards(0, parallel=4, max_shards=10).count == 0


def test_the_reason_names_the_rule_that_decided():
    assert "parallel slot" in plan_shards(1_000_000, parallel=4, max_shards=256, costs=COSTS).reason
    assert "fixed cost" in plan_shards(30_000, parallel=4, max_shards=256, costs=COSTS).reason


def test_concurrency_is_split_between_instances_and_threads():
    assert split_concurrency(100, 100) == (16, 6)
    assert split_concurrency(8, 100) == (8, 1)
    assert split_concurrency(None, 100) == (16, 6)
    # two shards running: each may use half of MaxConcurrency in threads
    assert threads_per_shard(100, 100, shards=2) == 50
    assert threads_per_shard(20, 100, shards=40) == 1
