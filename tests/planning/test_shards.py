"""Shards of a distributed Map Run, against a real local store (and a real SIGKILL)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pytest

from airflow_cloudflow.planning.shards import (
    CHILD_LOST,
    ShardRef,
    Staging,
    iter_results,
    read_recorded,
    run_shard,
    shard_size_for,
    write_shards,
)
from airflow_cloudflow.runtime.records import FAILED, SUCCEEDED, ChildExecution
from airflow_cloudflow.storage.local import LocalStore


@dataclass(frozen=True)
class Child:
    index: int
    first_item: int
    item_count: int
    input: Any


def children(n: int, per_batch: int = 1):
    return [Child(i, i * per_batch, per_batch, {"Items": list(range(i * per_batch, (i + 1) * per_batch))}) for i in range(n)]


@pytest.fixture
def staging(tmp_path) -> Staging:
    store = LocalStore(tmp_path)
    store.create_bucket("staging")
    return Staging(store, "staging", "runs/run-1/map-run-abc")


def record(index, first_item, item_count, value, *, fail=False) -> ChildExecution:
    now = datetime.now(timezone.utc)
    return ChildExecution(
        name=f"child-{index}", index=index, status=FAILED if fail else SUCCEEDED, input=value,
        output=None if fail else {"seen": value}, error_code="Boom" if fail else None,
        started=now, stopped=now, first_item=first_item, item_count=item_count,
    )


def test_shard_size_grows_to_respect_the_shard_cap():
    assert shard_size_for(25, max_shards=4, target_size=5) == 7
    assert shard_size_for(10, max_shards=100, target_size=5) == 5
    assert shard_size_for(0, max_shards=4, target_size=5) == 5
    assert shard_size_for(1_000_000, max_shards=256, target_size=1000) == 3907


def test_write_shards_cuts_at_most_max_shards_and_keeps_every_child(staging):
    refs = write_shards(children(25, per_batch=2), staging, max_shards=4, target_size=5)
    assert [r.child_count for r in refs] == [7, 7, 7, 4]
    assert [r.first_child for r in refs] == [0, 7, 14, 21]
    assert [r.first_item for r in refs] == [0, 14, 28, 42]
    assert [r.item_count for r in refs] == [14, 14, 14, 8]
    assert refs[1].label == "items 14-27"
    assert ShardRef.from_json(refs[2].to_json()) == refs[2]


def test_write_shards_of_nothing_is_no_shard(staging):
    assert write_shards([], staging, max_shards=4, target_size=5) == []


def test_run_shard_records_every_child_once_in_order(staging):
    refs = write_shards(children(12), staging, max_shards=3, target_size=1)
    calls = []

    def run(index, first_item, item_count, value):
        calls.append(index)
        return record(index, first_item, item_count, value, fail=index % 5 == 0)

    summaries = [run_shard(staging, ref, run, checkpoint_records=2) for ref in refs]
    assert sorted(calls) == list(range(12))
    assert sum(s.succeeded for s in summaries) == 9
    assert sum(s.failed for s in summaries) == 3
    results = list(iter_results(staging, refs))
    assert [r.index for r in results] == list(range(12))
    assert [r.status for r in results if r.index % 5 == 0] == [FAILED] * 3
    assert results[3].output == {"seen": {"Items": [3]}}


def test_rerun_of_a_finished_shard_runs_nothing_again(staging):
    (ref,) = write_shards(children(5), staging, max_shards=1, target_size=10)
    run_shard(staging, ref, lambda *c: record(*c))
    again = []
    summary = run_shard(staging, ref, lambda *c: again.append(c[0]) or record(*c))
    assert again == []
    assert (summary.succeeded, summary.failed, summary.reused) == (5, 0, 5)
    assert len(list(iter_results(staging, [ref]))) == 5


def _run_until_killed(root: str, ref_json: dict, kill_at: int) -> None:
    store = LocalStore(root)
    staging = Staging(store, "staging", "runs/run-1/map-run-abc")

    def run(index, first_item, item_count, value):
        if index == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)  # no finally, no flush: a real crash
        return record(index, first_item, item_count, value)

    run_shard(staging, ShardRef.from_json(ref_json), run, checkpoint_records=3)


def test_a_shard_killed_mid_run_resumes_without_duplicates_or_losses(staging, tmp_path):
    (ref,) = write_shards(children(20), staging, max_shards=1, target_size=100)
    proc = multiprocessing.get_context("spawn").Process(target=_run_until_killed, args=(str(tmp_path), ref.to_json(), 11))
    proc.start()
    proc.join(60)
    assert proc.exitcode == -signal.SIGKILL
    recorded_before = set(read_recorded(staging, ref.index))
    assert recorded_before == set(range(9))  # three parts of three were flushed before the kill

    rerun = []
    summary = run_shard(staging, ref, lambda *c: rerun.append(c[0]) or record(*c))
    assert rerun == list(range(9, 20))
    assert summary.reused == 9 and summary.succeeded == 20
    results = list(iter_results(staging, [ref]))
    assert [r.index for r in results] == list(range(20))


def test_a_shard_that_never_ran_reports_its_children_as_lost(staging):
    refs = write_shards(children(6), staging, max_shards=2, target_size=3)
    run_shard(staging, refs[0], lambda *c: record(*c))
    results = list(iter_results(staging, refs))
    assert [r.status for r in results] == [SUCCEEDED] * 3 + [FAILED] * 3
    assert {r.error_code for r in results[3:]} == {CHILD_LOST}
    assert results[4].input == {"Items": [4]}


def test_in_shard_concurrency_is_bounded(staging):
    (ref,) = write_shards(children(16), staging, max_shards=1, target_size=100)
    lock = threading.Lock()
    active = peak = 0

    def run(*child):
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.02)
        with lock:
            active -= 1
        return record(*child)

    summary = run_shard(staging, ref, run, concurrency=4)
    assert summary.succeeded == 16
    assert peak == 4
