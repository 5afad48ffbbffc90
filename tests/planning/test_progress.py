"""Live progress objects of a Map Run: written by the shards, read by the Map Run view."""

from __future__ import annotations

from airflow_cloudflow.planning.progress import map_run_summary, part_counts, progress_key, read_json
from airflow_cloudflow.planning.shards import run_shard, write_shards
from airflow_cloudflow.storage.writers.cloudflow import layout
from tests.planning.test_shards import children, record, sized, staging  # noqa: F401 (fixture)


def test_a_shard_publishes_its_counts_and_running_children_while_it_runs(staging):
    (ref,) = write_shards(children(6), staging, size_for=sized(1, 10))
    seen = []

    def run(index, first_item, item_count, value):
        if index == 4:
            seen.append(read_json(staging, progress_key(staging, 0)))
        return record(index, first_item, item_count, value, fail=index == 1)

    run_shard(staging, ref, run, checkpoint_records=2)
    (live,) = seen
    # children 0-3 were recorded in two parts of 2 when child 4 started; one failed (with its cause);
    # running: the children in flight when the last part was written (one at a time here: none)
    assert (live["succeeded"], live["failed"], live["running"], live["done"]) == (3, 1, 0, False)
    assert live["rows"] == {"succeeded": 3, "failed": 1}
    assert live["recent_failures"] == [{"index": 1, "name": "child-1", "error": "Boom", "cause": ""}]
    final = read_json(staging, progress_key(staging, 0))
    assert (final["succeeded"], final["failed"], final["running"], final["done"]) == (5, 1, 0, True)


def test_part_names_carry_their_counts_and_a_redrive_counts_each_child_once(staging):
    (ref,) = write_shards(children(10), staging, size_for=sized(1, 10))
    files = layout("flow")
    run_shard(staging, ref, lambda *c: record(*c, fail=c[0] in (2, 7)), layout=files, checkpoint_records=4)
    parts = sorted(i.key for i in staging.store.list(staging.bucket, staging.key("results", "00000") + "/")
                   if "/part-" in i.key)
    assert [part_counts(k) for k in parts] == [(3, 1), (3, 1), (2, 0)]
    run_shard(staging, ref, lambda *c: record(*c), layout=files)  # the redrive: 2 and 7 succeed now
    final = read_json(staging, progress_key(staging, 0))
    assert (final["succeeded"], final["failed"], final["generation"]) == (10, 0, 1)
    assert final["rows"] == {"succeeded": 10, "failed": 2}  # the table lists both generations' records


def test_the_summary_line_says_counts_tolerance_and_where_the_results_are():
    summary = map_run_summary("run-7", "ProcessOrders", items=100_000, failed_items=2_000, children=100_000,
                              failed_children=2_000, tolerance=(None, 10.0),
                              results_url="oss://demo-bucket/results/run-7/manifest.json", error=None)
    assert summary["line"] == ("Map Run run-7: 98,000 succeeded, 2,000 failed of 100,000 (tolerated ≤ 10 %, "
                               "actual 2.0 %); results oss://demo-bucket/results/run-7/manifest.json")
    assert summary["status"] == "SUCCEEDED"
    assert summary["items"] == {"succeeded": 98_000, "failed": 2_000, "total": 100_000}
    failed = map_run_summary("r", "M", items=10, failed_items=3, children=10, failed_children=3, tolerance=(1, None),
                             results_url=None, error={"Code": "FnF.ExceedToleratedFailureThreshold", "Detail": "x"})
    assert failed["status"] == "FAILED"
    assert failed["line"] == ("Map Run r: 7 succeeded, 3 failed of 10 (tolerated ≤ 1, actual 30.0 %); "
                              "no ResultWriter files; failed with FnF.ExceedToleratedFailureThreshold")
