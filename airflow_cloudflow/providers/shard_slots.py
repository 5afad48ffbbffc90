"""What the shard planner needs from Airflow: how many shard instances of one Map can run at once,
and the costs it weighs (``planning/sizing.py`` holds the rule).

The parallelism is the smallest of the limits that apply to the Map's mapped task instances:

* the mapped task's ``max_active_tis_per_dagrun`` (from MaxConcurrency, ``split_concurrency``);
* ``[core] parallelism`` (running task instances per scheduler) and ``[core] max_active_tasks_per_dag``;
* the executor's slots: for the LocalExecutor, the CPUs of the host it runs on (the shards are
  processes on that host: more of them than CPUs only adds fixed costs, and a processor that waits
  gets threads inside its shard); for the CeleryExecutor, ``[celery] worker_concurrency`` (one
  worker's slots: the provider cannot count the workers, set ``shard_parallelism`` for more);
* ``shard_parallelism`` (sidecar, else ``[cloudflow]``) replaces the measurement when set: use it
  for a pool smaller than the rest, or for several Celery workers.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from ..model import Map
from ..planning.sizing import ShardCosts, ShardPlan, plan_shards, split_concurrency
from ..runtime.fanout import DISTRIBUTED_MAX_CONCURRENCY
from .options import DagOptions

log = logging.getLogger(__name__)

LOCAL_EXECUTORS = ("LocalExecutor", "SequentialExecutor", "DebugExecutor")
"""Executors that run every task on the scheduler's host (their workers share its disk)."""


def executor_name() -> str:
    """The first configured executor's class name (``[core] executor`` may list several)."""
    from airflow.sdk import conf

    first = (conf.get("core", "executor", fallback="LocalExecutor") or "LocalExecutor").split(",")[0].strip()
    return first.rsplit(".", 1)[-1].split(":")[-1]


def host_cpus() -> int:
    """CPUs this process may run on (its affinity, which honours container CPU sets)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def parallel_limits(state: Map, options: DagOptions) -> dict[str, int]:
    """Every limit on the Map's running shard instances, by name (for the log and the docs)."""
    from airflow.sdk import conf

    from .config import settings

    instances, _ = split_concurrency(state.max_concurrency, DISTRIBUTED_MAX_CONCURRENCY)
    override = options.shard_parallelism or settings().shard_parallelism
    if override:
        return {"shard_parallelism": override, "MaxConcurrency": instances}
    limits = {
        "MaxConcurrency": instances,
        "[core] parallelism": conf.getint("core", "parallelism", fallback=32),
        "[core] max_active_tasks_per_dag": conf.getint("core", "max_active_tasks_per_dag", fallback=16),
    }
    executor = executor_name()
    if executor in LOCAL_EXECUTORS:
        limits[f"{executor}: host CPUs"] = host_cpus()
    elif executor == "CeleryExecutor":
        limits["[celery] worker_concurrency"] = conf.getint("celery", "worker_concurrency", fallback=16)
    return {name: value for name, value in limits.items() if value > 0}


def shard_planner(state: Map, options: DagOptions) -> tuple[Callable[[int], ShardPlan], dict[str, int]]:
    """``plan_for(children)`` for this Map under this Airflow, and the limits it was derived from."""
    from .config import settings

    config = settings()
    limits = parallel_limits(state, options)
    parallel = min(limits.values())
    max_shards = min(options.max_shards or config.max_shards, config.max_map_length)
    shard_size = options.shard_size or config.shard_size or None
    costs = ShardCosts(overhead_seconds=config.shard_overhead_seconds, child_seconds=config.child_seconds)

    def plan_for(children: int) -> ShardPlan:
        return plan_shards(children, parallel=parallel, max_shards=max_shards, shard_size=shard_size, costs=costs)

    return plan_for, limits


LOST_WORKER_SECONDS = 120
"""A heartbeat timeout above this leaves a lost worker's shards "running" for minutes (docs/scaling.md)."""


def warn_slow_lost_worker_detection() -> None:
    """Log once per process when a lost worker's shards would hold their slots for minutes."""
    global _warned
    if _warned:
        return
    _warned = True
    from airflow.sdk import conf

    timeout = conf.getint("scheduler", "task_instance_heartbeat_timeout", fallback=300)
    if timeout > LOST_WORKER_SECONDS:
        log.warning(
            "[scheduler] task_instance_heartbeat_timeout is %d s: a lost worker's shards stay 'running' that long "
            "before Airflow retries them; 60 is recommended for distributed Maps (docs/scaling.md)", timeout)


_warned = False
