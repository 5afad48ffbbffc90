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
    staged_results,
    write_shards,
)
from airflow_cloudflow.planning.sizing import plan_shards
from airflow_cloudflow.runtime.records import FAILED, SUCCEEDED, ChildExecution
from airflow_cloudflow.storage.local import LocalStore
from airflow_cloudflow.storage.writers.cloudflow import layout, write_results


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
    now = datetime(2026, 12, 1, 12, 0, index % 60, tzinfo=timezone.utc)
    return ChildExecution(
        name=f"child-{index}", index=index, status=FAILED if fail else SUCCEEDED, input=value,
        output=None if fail else {"seen": value}, error_code="Boom" if fail else None,
        started=now, stopped=now, first_item=first_item, item_count=item_count,
    )


def sized(max_shards: int, shard_size: int):
    """The planner with a ``shard_size`` override, as the Airflow layer calls it."""
    return lambda total: plan_shards(total, parallel=1, max_shards=max_shards, shard_size=shard_size).size


def test_write_shards_cuts_at_most_max_shards_and_keeps_every_child(staging):
    refs = write_shards(children(25, per_batch=2), staging, size_for=sized(4, 5))
    assert [r.child_count for r in refs] == [7, 7, 7, 4]
    assert [r.first_child for r in refs] == [0, 7, 14, 21]
    assert [r.first_item for r in refs] == [0, 14, 28, 42]
    assert [r.item_count for r in refs] == [14, 14, 14, 8]
    assert refs[1].label == "items 14-27"
    assert ShardRef.from_json(refs[2].to_json()) == refs[2]


def test_write_shards_of_nothing_is_no_shard(staging):
    assert write_shards([], staging, size_for=sized(4, 5)) == []


def test_run_shard_records_every_child_once_in_order(staging):
    refs = write_shards(children(12), staging, size_for=sized(3, 1))
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
    (ref,) = write_shards(children(5), staging, size_for=sized(1, 10))
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
    (ref,) = write_shards(children(20), staging, size_for=sized(1, 100))
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
    refs = write_shards(children(6), staging, size_for=sized(2, 3))
    run_shard(staging, refs[0], lambda *c: record(*c))
    results = list(iter_results(staging, refs))
    assert [r.status for r in results] == [SUCCEEDED] * 3 + [FAILED] * 3
    assert {r.error_code for r in results[3:]} == {CHILD_LOST}
    assert results[4].input == {"Items": [4]}


def test_in_shard_concurrency_is_bounded(staging):
    (ref,) = write_shards(children(16), staging, size_for=sized(1, 100))
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


def _files(store, bucket, prefix):
    return {info.key[len(prefix):]: store.open(bucket, info.key).read() for info in store.list(bucket, prefix)}


def test_shards_render_their_records_and_the_writer_only_stitches_them(staging, tmp_path):
    """The ResultWriter layout from staged shard files is byte for byte the one-process layout."""
    kids = children(30)
    refs = write_shards(kids, staging, size_for=sized(3, 10))
    files = layout("flow")
    for ref in refs:
        run_shard(staging, ref, lambda *c: record(*c, fail=c[0] % 7 == 3), layout=files)
    staged = staged_results(staging, refs, files)
    assert (staged.children, staged.failed_children, staged.items, staged.failed_items) == (30, 4, 30, 4)

    dest = LocalStore(tmp_path / "dest")
    dest.create_bucket("out")
    stitched = write_results(dest, bucket="out", prefix="stitched/", map_run_name="run", flow_name="flow",
                             staged=staged)
    one_process = [record(k.index, k.first_item, k.item_count, k.input, fail=k.index % 7 == 3) for k in kids]
    direct = write_results(dest, bucket="out", prefix="direct/", map_run_name="run", flow_name="flow",
                           children=one_process)
    # one file per shard and status (each far under 5 MiB): the same records, in child order
    assert [f["ObjectName"] for f in stitched["ResultFiles"]["SUCCEED"]] == [
        f"stitched/run/SUCCEED_{i}.json" for i in range(3)]
    import json

    def records(manifest):
        return {status: [r for f in entries for r in json.loads(dest.open("out", f["ObjectName"]).read())]
                for status, entries in manifest["ResultFiles"].items()}

    assert records(stitched) == records(direct)
    assert [r["ExecutionName"] for r in records(stitched)["FAILED"]] == ["child-3", "child-10", "child-17", "child-24"]


def test_a_shard_lost_for_good_is_rendered_by_the_writer_with_its_lost_children(staging):
    refs = write_shards(children(6), staging, size_for=sized(2, 3))
    files = layout("flow")
    run_shard(staging, refs[0], lambda *c: record(*c), layout=files)
    staged = staged_results(staging, refs, files)  # shard 1 never ran
    assert (staged.children, staged.failed_children) == (6, 3)
    failed = list(staged.files("FAILED"))
    assert len(failed) == 1 and "segments/00001/" in failed[0].key
    assert CHILD_LOST.encode() in staging.store.open(staging.bucket, failed[0].key).read()


def test_a_retried_shard_renders_reused_and_new_records_once_each(staging):
    (ref,) = write_shards(children(8), staging, size_for=sized(1, 100))
    files = layout("flow")
    calls = []

    def crash_at_five(index, *rest):
        if index == 5:
            raise KeyboardInterrupt  # stands for a crash: what was checkpointed stays
        return record(index, *rest)

    with pytest.raises(KeyboardInterrupt):
        run_shard(staging, ref, crash_at_five, layout=files, checkpoint_records=1)
    assert not [i for i in staging.store.list(staging.bucket, staging.prefix) if i.key.endswith("index.json")]
    run_shard(staging, ref, lambda *c: calls.append(c[0]) or record(*c), layout=files)
    assert calls == [5, 6, 7]
    staged = staged_results(staging, [ref], files)
    body = staging.store.open(staging.bucket, next(staged.files("SUCCEED")).key).read().decode()
    assert [body.count(f'"child-{i}"') for i in range(8)] == [1] * 8


def test_a_record_that_cannot_be_written_fails_the_writer_not_the_shard(staging):
    (ref,) = write_shards(children(3), staging, size_for=sized(1, 10))
    files = layout("flow")

    def nan_output(index, first_item, item_count, value):
        good = record(index, first_item, item_count, value)
        return ChildExecution(**{**good.__dict__, "output": float("nan")}) if index == 1 else good

    summary = run_shard(staging, ref, nan_output, layout=files)
    assert summary.succeeded == 3
    from airflow_cloudflow.exceptions import FlowError

    with pytest.raises(FlowError) as raised:
        staged_results(staging, [ref], files)
    assert raised.value.code == "FnF.ResultWriterFailed" and "child-1" in raised.value.detail


def no_tolerance(failed: int, total: int) -> bool:
    return failed > 0


def test_a_map_run_over_its_tolerance_stops_every_shard(staging):
    """Early stop across shards through the staging store: the first shard's failures stop it within
    a checkpoint, and a shard that starts afterwards runs nothing."""
    refs = write_shards(children(1000), staging, size_for=sized(2, 500))
    ran = []

    def broken(index, first_item, item_count, value):
        ran.append(index)
        return record(index, first_item, item_count, value, fail=True)

    first = run_shard(staging, refs[0], broken, layout=layout("flow"), stop_when=no_tolerance, total_items=1000,
                      checkpoint_records=10)
    assert 1 <= first.failed <= 11 and first.not_run == 500 - first.failed  # stopped at the first checkpoint
    second = run_shard(staging, refs[1], broken, layout=layout("flow"), stop_when=no_tolerance, total_items=1000)
    assert (second.failed, second.not_run) == (0, 500) and len(ran) == first.failed
    staged = staged_results(staging, refs, layout("flow"))  # the stopped shards' files are complete
    assert (staged.children, staged.failed_children) == (first.failed, first.failed)


def test_failures_within_the_tolerance_never_stop_the_map_run(staging):
    (ref,) = write_shards(children(100), staging, size_for=sized(1, 100))
    tolerated = lambda failed, total: failed * 100 > 10 * total  # noqa: E731  (10 %)
    summary = run_shard(staging, ref, lambda *c: record(*c, fail=c[0] % 20 == 0), stop_when=tolerated,
                        total_items=100, checkpoint_records=5)
    assert (summary.succeeded, summary.failed, summary.not_run) == (95, 5, 0)


def test_a_redrive_reruns_only_the_failed_children_and_keeps_every_success(staging):
    refs = write_shards(children(10), staging, size_for=sized(1, 10))
    files = layout("flow")
    first = run_shard(staging, refs[0], lambda *c: record(*c, fail=c[0] in (2, 7)), layout=files)
    assert (first.failed, first.generation) == (2, 0)
    again = []
    fixed = run_shard(staging, refs[0], lambda *c: again.append(c[0]) or record(*c), layout=files)
    assert again == [2, 7]  # the function was fixed: only the failed children ran again, once
    assert (fixed.succeeded, fixed.failed, fixed.reused, fixed.generation) == (10, 0, 8, 1)
    staged = staged_results(staging, refs, files)
    assert (staged.children, staged.failed_children) == (10, 0)
    body = b"".join(staging.store.open(staging.bucket, f.key).read() for f in staged.files("SUCCEED")).decode()
    assert [body.count(f'"child-{i}"') for i in range(10)] == [1] * 10
    assert not list(staged.files("FAILED"))
    assert {r.index: r.succeeded for r in read_recorded(staging, 0).values()} == {i: True for i in range(10)}


def test_a_crash_during_a_redrive_does_not_rerun_what_that_redrive_recorded(staging):
    (ref,) = write_shards(children(6), staging, size_for=sized(1, 10))
    run_shard(staging, ref, lambda *c: record(*c, fail=True))  # generation 0: all six failed

    def crash_after_three(index, *rest):
        if index == 3:
            raise KeyboardInterrupt  # the redrive's worker dies after recording children 0-2
        return record(index, *rest, fail=index == 1)

    with pytest.raises(KeyboardInterrupt):
        run_shard(staging, ref, crash_after_three, checkpoint_records=1)
    retried = []
    summary = run_shard(staging, ref, lambda *c: retried.append(c[0]) or record(*c))
    assert retried == [3, 4, 5]  # child 1 failed again in this redrive: it is not run a third time
    assert (summary.generation, summary.succeeded, summary.failed) == (1, 5, 1)


def test_early_stop_during_a_redrive_judges_only_the_redrives_own_failures(staging):
    (ref,) = write_shards(children(20), staging, size_for=sized(1, 100))
    run_shard(staging, ref, lambda *c: record(*c, fail=c[0] < 5), stop_when=lambda f, t: f > 5, total_items=20)
    summary = run_shard(staging, ref, lambda *c: record(*c), stop_when=lambda f, t: f > 5, total_items=20)
    assert (summary.generation, summary.succeeded, summary.not_run) == (1, 20, 0)


def test_a_redrive_under_a_changed_map_definition_is_refused(staging):
    from airflow_cloudflow.planning.shards import RedriveRefused

    (ref,) = write_shards(children(3), staging, size_for=sized(1, 10))
    run_shard(staging, ref, lambda *c: record(*c, fail=True), definition="v1")
    with pytest.raises(RedriveRefused, match="definition changed"):
        run_shard(staging, ref, lambda *c: record(*c), definition="v2")
    assert run_shard(staging, ref, lambda *c: record(*c), definition="v1").succeeded == 3
