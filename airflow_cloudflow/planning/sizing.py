"""How many shards a distributed Map Run is cut into: planned by cost, not a fixed size.

A shard instance pays a fixed cost before its first child (task start-up, parsing the DAG file,
connecting to the staging store: ``overhead_seconds``) and then ``child_seconds`` per child. With
``parallel`` shard instances able to run at once, a Map of ``n`` children takes about

    waves × overhead_seconds + n × child_seconds / min(shards, parallel)

so the planner (docs/scaling.md, "Shard planning"):

1. never plans more shards than can run at once (one wave: every extra shard only adds a fixed
   cost, and a shard waiting for a slot is what a lost worker starves);
2. plans fewer when the children are too few to pay for them: each shard must carry at least
   ``min_work_ratio`` times its fixed cost in work, so the fixed cost stays a small share;
3. honours the overrides: ``shard_size`` (children per shard) replaces the rule, and
   ``max_shards`` (≤ ``[core] max_map_length``) caps the count whatever the rule says.

Nothing here knows Airflow: the Airflow layer measures ``parallel`` from its configuration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_PARALLEL_SHARDS = 16
"""Mapped shard instances of one Map running at once (``max_active_tis_per_dagrun``); threads
inside each shard make up the rest of MaxConcurrency."""


@dataclass(frozen=True)
class ShardCosts:
    """The measured costs behind the rule (docs/scaling.md gives the measurements)."""

    overhead_seconds: float = 1.0
    """Fixed cost of one shard instance before its first child runs."""
    child_seconds: float = 0.00005
    """Work of one child execution (a few Pass/Choice states: ~50 µs on one core)."""
    min_work_ratio: float = 2.0
    """A shard carries at least this many times its fixed cost in work (fixed cost ≤ 1/3)."""


@dataclass(frozen=True)
class ShardPlan:
    """The planner's answer: ``count`` shards of at most ``size`` children, and why."""

    count: int
    size: int
    reason: str


def plan_shards(
    children: int,
    *,
    parallel: int,
    max_shards: int,
    shard_size: int | None = None,
    costs: ShardCosts = ShardCosts(),
) -> ShardPlan:
    """The number and size of shards for ``children`` child executions (see the module rule)."""
    cap = max(1, max_shards)
    if children <= 0:
        return ShardPlan(0, max(1, shard_size or 1), "no children")
    if shard_size:
        size = max(shard_size, math.ceil(children / cap))
        count = math.ceil(children / size)
        why = f"shard_size {shard_size}" + (f", grown to {size} by max_shards {cap}" if size > shard_size else "")
        return ShardPlan(count, size, why)
    slots = max(1, min(parallel, cap))
    work = children * costs.child_seconds
    affordable = max(1, math.floor(work / (costs.overhead_seconds * costs.min_work_ratio)))
    count = min(slots, affordable, children)
    size = math.ceil(children / count)
    count = math.ceil(children / size)
    if count == slots:
        why = f"one shard per parallel slot ({slots})"
    else:
        why = (f"{count} shard(s): {children} children × {costs.child_seconds * 1e6:.0f} µs pay for "
               f"{affordable} fixed cost(s) of {costs.overhead_seconds:g} s × {costs.min_work_ratio:g}")
    return ShardPlan(count, size, why)


def split_concurrency(max_concurrency: int | None, default: int) -> tuple[int, int]:
    """(mapped instances at once, threads per instance): their product never exceeds MaxConcurrency
    (``default`` when the Map sets none)."""
    total = max_concurrency or default
    instances = max(1, min(total, MAX_PARALLEL_SHARDS))
    return instances, max(1, total // instances)


def threads_per_shard(max_concurrency: int | None, default: int, shards: int) -> int:
    """Threads each of ``shards`` running instances may use so that all of them together run at
    most MaxConcurrency children (fewer shards than the cap: more threads each)."""
    total = max_concurrency or default
    instances, _ = split_concurrency(max_concurrency, default)
    return max(1, total // max(1, min(shards, instances)))
