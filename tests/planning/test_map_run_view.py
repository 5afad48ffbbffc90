"""The Map Run view's reads: counts from progress objects, a page from the few parts that hold it."""

from __future__ import annotations

from airflow_cloudflow.planning.map_run_view import ProgressCache, children_page, describe, describe_map_run
from airflow_cloudflow.planning.progress import write_map_run
from airflow_cloudflow.planning.shards import Staging, run_shard, write_shards
from airflow_cloudflow.storage.writers.asl import layout as asl_layout
from tests.planning.test_shards import children, record, sized, staging  # noqa: F401 (fixture)
from tests.storage.spy import SpyStore


class KeySpy(SpyStore):
    """The real store, with the keys it was asked to open recorded."""

    def __init__(self, inner):
        super().__init__(inner)
        self.opened: list[str] = []

    def open(self, bucket, key):
        self.opened.append(key)
        return super().open(bucket, key)


def _map_run(staging, n, shards, *, fail, layout=None, run_shards=None):
    refs = write_shards(children(n), staging, size_for=sized(shards, n // shards))
    write_map_run(staging, {"map_run_name": "mr-1", "state": "ProcessOrders", "dialect": "cloudflow",
                            "total_items": n, "shard_children": [r.child_count for r in refs],
                            "tolerance": [None, 10.0], "max_concurrency": 40})
    for ref in refs[: run_shards if run_shards is not None else len(refs)]:
        run_shard(staging, ref, lambda *c: record(*c, fail=fail(c[0])), layout=layout, checkpoint_records=200)
    return refs


def test_describe_counts_every_shard_from_its_progress_object_alone(staging):
    _map_run(staging, 2_000, 4, fail=lambda i: i % 50 == 0, run_shards=3)
    spy = Staging(KeySpy(staging.store), staging.bucket, staging.prefix)
    cache = ProgressCache()
    view = describe(spy, cache=cache)
    assert view["counts"] == {"succeeded": 1470, "failed": 30, "running": 0, "pending": 500, "total": 2000}
    assert [s["status"] for s in view["shards"]] == ["DONE", "DONE", "DONE", "PENDING"]
    assert view["status"] == "RUNNING"
    assert view["tolerance"] == {"count": None, "percentage": 10.0, "failure_rate": 2.0, "exceeded": False}
    assert view["max_concurrency"] == 40
    assert view["throughput_per_second"] > 0 and view["eta_seconds"] >= 0
    assert view["recent_failures"][-1]["error"] == "Boom"
    # maprun.json, summary.json (absent), one progress object per shard that ran: never a part object
    assert [key.rsplit("/", 2)[-2:] for key in spy.store.opened] == [
        ["map-run-abc", "maprun.json"], ["map-run-abc", "summary.json"],
        ["progress", "00000.json"], ["progress", "00001.json"], ["progress", "00002.json"]]
    spy.store.opened.clear()
    again = describe(spy, cache=cache)  # unchanged progress objects (same ETag) are not read again
    assert again["counts"] == view["counts"] and len(spy.store.opened) == 2


def test_a_page_of_failed_children_reads_only_the_parts_that_hold_it(staging):
    _map_run(staging, 20_000, 10, fail=lambda i: i % 100 == 7, layout=asl_layout("arn:aws:states:us-east-1:123456789012:mapRun:orders/ProcessOrders:0c6b3c1e-8f7a-4a5e-9a43-2d7d8f6b1a11"))
    cache = ProgressCache()
    everything = children_page(staging, status="all", offset=0, limit=10, cache=cache)
    assert everything.total == 20_000 and len(everything.rows) == 10 and everything.parts_read == 1
    failed = children_page(staging, status="failed", offset=150, limit=20, cache=cache)
    assert failed.total == 200
    assert [r["index"] for r in failed.rows] == [i * 100 + 7 for i in range(150, 170)]
    assert {r["status"] for r in failed.rows} == {"FAILED"}
    assert failed.rows[0]["error"] == "Boom" and failed.rows[0]["name"] == "child-15007"
    assert failed.parts_read == 10  # two failures in each part of 200 records: 10 of the 100 parts
    last = children_page(staging, status="succeeded", offset=19_795, limit=50, cache=cache)
    assert len(last.rows) == 5 and last.rows[-1]["index"] == 19_999


def test_describe_map_run_has_the_step_functions_shape(staging):
    _map_run(staging, 100, 2, fail=lambda i: i < 3)
    shape = describe_map_run(describe(staging, cache=ProgressCache()), execution_arn="arn:exec")
    assert shape["executionCounts"]["failed"] == 3 and shape["executionCounts"]["succeeded"] == 97
    assert shape["itemCounts"]["total"] == 100 and shape["toleratedFailurePercentage"] == 10.0
    assert shape["maxConcurrency"] == 40 and shape["executionArn"] == "arn:exec"
    assert set(shape) >= {"mapRunArn", "status", "startDate", "stopDate", "itemCounts", "executionCounts"}
