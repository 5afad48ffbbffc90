"""Live progress of a distributed Map Run in its staging area: what the Map Run view reads.

Written by the tasks, read by the view (``planning/map_run_view.py``), no Airflow here:

* ``maprun.json`` (the ItemReader task, once): name, state, dialect, when it started, the shards'
  child counts, the tolerance, MaxConcurrency;
* ``progress/<shard>.json`` (each shard attempt, overwritten when it checkpoints, at most every
  200 records or 2 s, and when it ends): the shard's counts so far (a child counted once, its
  latest record), the children running now, and ``rows``: how many records its part objects hold
  by outcome (a redriven child has one record per generation), so the view finds the parts of one
  page of the child table without listing every shard;
* part objects carry their own counts in their names (``part-g<N>-<attempt>-<seq>-s<S>f<F>.<ext>``),
  so the parts of one shard are located by one listing, and only the ones a page needs are read;
* ``summary.json`` (the ResultWriter task): the Map Run's final counts, status and result location.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..exceptions import NoSuchObject

if TYPE_CHECKING:  # pragma: no cover
    from .shards import Staging

MAP_RUN_FILE = "maprun.json"
SUMMARY_FILE = "summary.json"
RECENT_FAILURES = 5
_PART_COUNTS = re.compile(r"-s(\d+)f(\d+)\.[a-z]+$")


def progress_key(staging: "Staging", shard_index: int) -> str:
    return staging.key("progress", f"{shard_index:05d}.json")


def part_counts(key: str) -> tuple[int, int] | None:
    """(succeeded, failed) records of a part object, from its name (None: a part without counts)."""
    found = _PART_COUNTS.search(key)
    return None if found is None else (int(found.group(1)), int(found.group(2)))


def read_json(staging: "Staging", key: str) -> Any:
    """A small JSON object of the staging area, or None when it does not exist."""
    try:
        stream = staging.store.open(staging.bucket, key)
    except NoSuchObject:
        return None
    try:
        return json.loads(stream.read())
    finally:
        stream.close()


def write_json(staging: "Staging", key: str, value: Any) -> None:
    staging.store.put(staging.bucket, key, json.dumps(value, separators=(",", ":")).encode("utf-8"))


def write_map_run(staging: "Staging", record: dict[str, Any]) -> None:
    """``maprun.json``: what the view shows before any shard starts (the ItemReader task's record)."""
    write_json(staging, staging.key(MAP_RUN_FILE), {"started_at": time.time(), **record})


def write_summary(staging: "Staging", summary: dict[str, Any]) -> None:
    write_json(staging, staging.key(SUMMARY_FILE), summary)


class ShardTally:
    """Children and items of one shard, by outcome (a failed batch counts all its items)."""

    __slots__ = ("succeeded", "failed", "items", "failed_items")

    def __init__(self) -> None:
        self.succeeded = self.failed = self.items = self.failed_items = 0

    def count(self, record: Any, sign: int = 1) -> None:
        """Add ``record`` (``sign`` -1: take back a kept record that a fresh one supersedes)."""
        self.items += sign * record.item_count
        if record.succeeded:
            self.succeeded += sign
        else:
            self.failed += sign
            self.failed_items += sign * record.item_count

    def to_json(self) -> dict[str, int]:
        return {"children": self.succeeded + self.failed, "failed_children": self.failed,
                "items": self.items, "failed_items": self.failed_items}


@dataclass
class ShardProgress:
    """One shard attempt's counts, published as ``progress/<shard>.json``."""

    staging: "Staging"
    shard: int
    generation: int
    child_count: int
    tally: ShardTally = field(default_factory=ShardTally)  # each child once, by its latest record
    started: int = 0  # children of this attempt handed to a worker thread
    finished: int = 0  # … of which came back
    rows_succeeded: int = 0
    rows_failed: int = 0
    started_at: float = 0.0
    done: bool = False
    recent_failures: list[dict[str, Any]] = field(default_factory=list)  # the last few, with their cause

    @classmethod
    def begin(cls, staging: "Staging", shard: int, generation: int, child_count: int,
              kept: "list[Any]", part_keys: list[str]) -> "ShardProgress":
        """The progress of an attempt that starts with ``kept`` records (earlier attempts') whose
        parts are ``part_keys``."""
        progress = cls(staging, shard, generation, child_count, started_at=time.time())
        for record in kept:
            progress.tally.count(record)
        for key in part_keys:
            counts = part_counts(key)
            if counts is not None:
                progress.rows_succeeded += counts[0]
                progress.rows_failed += counts[1]
        progress.publish()
        return progress

    def watch(self, todo: Any) -> Any:
        """``todo``, counting the children handed on (the ones running are handed on, not back)."""
        for child in todo:
            self.started += 1
            yield child

    def ran(self, kept: Any, record: Any) -> None:
        """A child of this attempt came back with ``record``; ``kept``: its earlier record, if any."""
        self.finished += 1
        if not record.succeeded:
            self.recent_failures = [*self.recent_failures[-(RECENT_FAILURES - 1):], {
                "index": record.index, "name": record.name, "error": record.error_code,
                "cause": (record.error_detail or "")[:500]}]
        if kept is not None:
            self.tally.count(kept, -1)
        self.tally.count(record)

    def part_written(self, succeeded: int, failed: int) -> None:
        self.rows_succeeded += succeeded
        self.rows_failed += failed
        self.publish()

    def publish(self) -> None:
        write_json(self.staging, progress_key(self.staging, self.shard), {
            "shard": self.shard, "generation": self.generation, "child_count": self.child_count,
            "succeeded": self.tally.succeeded, "failed": self.tally.failed, "items": self.tally.items,
            "failed_items": self.tally.failed_items, "running": 0 if self.done else max(0, self.started - self.finished),
            "rows": {"succeeded": self.rows_succeeded, "failed": self.rows_failed},
            "started_at": self.started_at, "updated_at": time.time(), "done": self.done,
            "recent_failures": self.recent_failures,
        })

    def end(self) -> None:
        self.done = True
        self.publish()


def _tolerated(count: int | None, percentage: float | None) -> str:
    if count is None and percentage is None:
        return "tolerated 0"
    limits = ([f"≤ {count:,}"] if count is not None else []) + ([f"≤ {percentage:g} %"] if percentage is not None else [])
    return "tolerated " + " and ".join(limits)


def map_run_summary(map_run_name: str, state: str, *, items: int, failed_items: int, children: int,
                    failed_children: int, tolerance: tuple[int | None, float | None] | None,
                    results_url: str | None, error: dict[str, Any] | None) -> dict[str, Any]:
    """The ResultWriter task's account of a Map Run (its log line and XCom): counts of items (what
    the tolerance judges), the tolerance against the actual failure rate, where the results are."""
    count, percentage = tolerance or (None, None)
    actual = 100.0 * failed_items / items if items else 0.0
    line = (f"Map Run {map_run_name}: {items - failed_items:,} succeeded, {failed_items:,} failed of {items:,} "
            f"({_tolerated(count, percentage)}, actual {actual:.1f} %)")
    line += f"; results {results_url}" if results_url else "; no ResultWriter files"
    if error:
        line += f"; failed with {error.get('Code')}"
    return {
        "map_run_name": map_run_name, "state": state, "status": "FAILED" if error else "SUCCEEDED",
        "items": {"succeeded": items - failed_items, "failed": failed_items, "total": items},
        "children": {"succeeded": children - failed_children, "failed": failed_children, "total": children},
        "tolerance": {"count": count, "percentage": percentage, "actual_percentage": round(actual, 2)},
        "results": {"manifest": results_url} if results_url else None,
        "error": error, "line": line, "stopped_at": time.time(),
    }
