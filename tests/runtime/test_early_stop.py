"""Early stop of a distributed Map (CloudFlow): once the failures seen exceed the tolerance, no new
child starts, the running ones finish, and the Map fails with ``FnF.ExceedToleratedFailureThreshold``
exactly as if every child had run (docs/semantics.md, "Distributed Map")."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from airflow_cloudflow.exceptions import ErrorCodes
from airflow_cloudflow.runtime import fanout
from airflow_cloudflow.runtime.early_stop import EarlyStop
from airflow_cloudflow.runtime.children import ChildInput
from airflow_cloudflow.runtime.records import ChildExecution
from airflow_cloudflow.storage.local import LocalStore
from airflow_cloudflow.storage.resolver import StoreResolver
from tests.runtime.flows import interpreter
from tests.storage.spy import SpyStore
from tests.runtime.early_stop_support import marked, ran, write_csv  # noqa: F401  (ran is a fixture)

N = 100_000

ITEMS_PATH = "  ItemsPath: $Input.xs"
CSV_READER = """  ItemReader:
    SourceType: OSS_CSV
    SourceParameters:
      Bucket: bkt
      ObjectName: items.csv"""

FAIL_ALL = """
      - Type: Fail
        Name: F
        Code: Broken
        Detail: broken processor"""

MARKED = """
      - Type: Choice
        Name: C
        Branches:
          - Condition: $Input.fail == "y"
            Next: F
        Default: S
      - Type: Fail
        Name: F
        Code: Broken
        Detail: marked item
      - Type: Succeed
        Name: S
        End: true"""

WAIT = """
      - Type: Wait
        Name: W
        Seconds: 1
        Next: {next}"""


def flow(source: str = ITEMS_PATH, processor: str = FAIL_ALL, extra: str = "", wait: bool = False) -> str:
    start = processor.split("Name:")[1].split()[0]
    if wait:  # a Wait first: the processor may block, so the children run on the thread pool
        processor = WAIT.format(next=start) + processor
        start = "W"
    return f"""
- Type: Map
  Name: M
  ProcessorConfig:
    ExecutionMode: Express
{source}
{extra}
  Processor:
    StartAt: {start}
    States:{processor}
  End: true
"""


def execute(text: str, value, store: Path | None = None, stores=None):
    interp = interpreter(text, store=store)
    if stores is not None:
        interp.stores = stores
    return interp.execute(value)


# ----------------------------------------------------------------- the 100,000-item broken Map


def test_items_path_all_failing_stops_after_one_child_and_much_faster_than_a_full_run(ran):
    xs = list(range(N))
    started = time.perf_counter()
    stopped = execute(flow(), {"xs": xs})
    stopped_seconds = time.perf_counter() - started
    assert stopped.error.code == ErrorCodes.TOLERANCE_EXCEEDED
    assert ran == [0]  # sequential path (no Task, no Wait): exactly one child
    assert stopped.error.detail == ("1 of 1 items failed (1 of 1 child executions), more than tolerated; "
                                    "the Map Run stopped early: 99999 of 100000 items were not started")

    ran.clear()
    started = time.perf_counter()
    full = execute(flow(extra="  ToleratedFailurePercentage: 100"), {"xs": xs})
    full_seconds = time.perf_counter() - started
    assert full.succeeded and len(ran) == N  # within tolerance: every child runs
    assert stopped_seconds * 10 < full_seconds, (stopped_seconds, full_seconds)


def test_item_reader_all_failing_stops_after_one_child_and_stops_reading(tmp_path, ran):
    path = write_csv(tmp_path, marked(N, lambda i: True))
    spy = SpyStore(LocalStore(tmp_path, scheme="oss"))
    result = execute(flow(CSV_READER), {}, stores=StoreResolver({"oss": spy}))
    assert result.error.code == ErrorCodes.TOLERANCE_EXCEEDED
    assert ran == [0]
    assert result.error.detail.endswith("the Map Run stopped early: the items not yet read were not started")
    (stream,) = spy.streams
    assert stream.closed  # the reader was closed at the stop, not read to its end
    assert stream.bytes_read < path.stat().st_size // 4


def test_threaded_processor_stops_within_max_concurrency(ran):
    limit = 8
    result = execute(flow(extra=f"  MaxConcurrency: {limit}", wait=True), {"xs": list(range(N))})
    assert result.error.code == ErrorCodes.TOLERANCE_EXCEEDED
    # at most MaxConcurrency children were in flight when the first failure was seen; none started after
    assert 1 <= len(ran) <= limit
    assert sorted(ran) == list(range(len(ran)))


def test_threaded_item_reader_stops_within_the_bound(tmp_path, ran):
    write_csv(tmp_path, marked(N, lambda i: True))
    limit, count = 6, 20
    result = execute(flow(CSV_READER, extra=f"  MaxConcurrency: {limit}\n  ToleratedFailureCount: {count}",
                          wait=True), {}, store=tmp_path)
    assert result.error.code == ErrorCodes.TOLERANCE_EXCEEDED
    # the stop comes with the 21st failure seen; at most MaxConcurrency - 1 others were still running
    assert count + 1 <= len(ran) <= count + limit


# ----------------------------------------------------------------- thresholds


def test_within_tolerance_every_child_runs_and_the_map_succeeds(ran):
    xs = marked(1000, lambda i: i % 10 == 0)  # 100 failures, spread out
    result = execute(flow(processor=MARKED, extra="  ToleratedFailureCount: 100"), {"xs": xs})
    assert result.succeeded and len(ran) == 1000
    assert sum(1 for slot in result.output["Items"] if slot == {"ErrorCode": "Broken", "Detail": "marked item"}) == 100


def test_count_threshold_stops_at_the_first_failure_beyond_it(ran):
    xs = marked(1000, lambda i: i >= 500)
    result = execute(flow(processor=MARKED, extra="  ToleratedFailureCount: 3"), {"xs": xs})
    assert result.error.code == ErrorCodes.TOLERANCE_EXCEEDED
    assert len(ran) == 504  # 500 successes, then failures 1..4: the 4th is more than 3
    assert result.error.detail == ("4 of 504 items failed (4 of 504 child executions), more than tolerated; "
                                   "the Map Run stopped early: 496 of 1000 items were not started")


def test_percentage_with_a_known_total_is_judged_at_once(ran):
    xs = marked(1000, lambda i: i < 200)  # 10% tolerated: the 101st failure exceeds it
    result = execute(flow(processor=MARKED, extra="  ToleratedFailurePercentage: 10"), {"xs": xs})
    assert result.error.code == ErrorCodes.TOLERANCE_EXCEEDED
    assert len(ran) == 101


def test_early_failures_within_the_percentage_of_the_whole_do_not_stop_the_map(ran):
    """100 failures in a row are 100% of the items seen but exactly 10% of the Map: it succeeds."""
    xs = marked(1000, lambda i: i < 100)
    result = execute(flow(processor=MARKED, extra="  ToleratedFailurePercentage: 10"), {"xs": xs})
    assert result.succeeded and len(ran) == 1000


def test_percentage_with_an_item_reader_waits_for_the_reader_to_end(tmp_path, ran):
    """The total is unknown while the reader streams: a percentage cannot stop the Map early (the
    children are started as the items are read), but the Map still fails or succeeds as a full run."""
    write_csv(tmp_path, marked(1000, lambda i: i < 100))
    ok = execute(flow(CSV_READER, MARKED, "  ToleratedFailurePercentage: 10"), {}, store=tmp_path)
    assert ok.succeeded and len(ran) == 1000
    ran.clear()
    write_csv(tmp_path, marked(1000, lambda i: i < 200))
    failed = execute(flow(CSV_READER, MARKED, "  ToleratedFailurePercentage: 10"), {}, store=tmp_path)
    assert failed.error.code == ErrorCodes.TOLERANCE_EXCEEDED and len(ran) == 1000
    assert failed.error.detail == "200 of 1000 items failed (200 of 1000 child executions), more than tolerated"


def test_count_still_stops_an_item_reader_with_both_thresholds(tmp_path, ran):
    write_csv(tmp_path, marked(1000, lambda i: True))
    result = execute(flow(CSV_READER, MARKED, "  ToleratedFailureCount: 5\n  ToleratedFailurePercentage: 50"),
                     {}, store=tmp_path)
    assert result.error.code == ErrorCodes.TOLERANCE_EXCEEDED and len(ran) == 6


def test_a_failed_batch_counts_all_its_items(ran):
    xs = marked(1000, lambda i: True)
    result = execute(flow(processor="""
      - Type: Fail
        Name: F
        Code: Broken
        Detail: whole batch""", extra="  ToleratedFailureCount: 15\n  ItemBatcher:\n    MaxItemsPerBatch: 10"),
        {"xs": xs})
    assert result.error.code == ErrorCodes.TOLERANCE_EXCEEDED
    assert len(ran) == 2  # 10 failed items are tolerated, 20 are not
    assert result.error.detail == ("20 of 20 items failed (2 of 2 child executions), more than tolerated; "
                                   "the Map Run stopped early: 980 of 1000 items were not started")


def test_catch_still_catches_the_error(ran):
    text = flow(extra="""  Catch:
    - Errors: [FnF.ExceedToleratedFailureThreshold]
      Next: H""").replace("  End: true\n", "  Next: H\n")
    text += "- Type: Pass\n  Name: H\n  End: true\n"
    result = execute(text, {"xs": list(range(N))})
    assert result.succeeded, result.error
    assert result.output["Code"] == ErrorCodes.TOLERANCE_EXCEEDED
    assert "99999 of 100000 items were not started" in result.output["Detail"]
    assert ran == [0]


# ----------------------------------------------------------------- ResultWriter


def records(root: Path, prefix: str) -> dict[str, list[dict]]:
    (run_dir,) = [p for p in (root / "bkt" / prefix).iterdir() if p.is_dir()]
    found: dict[str, list[dict]] = {}
    for path in sorted(run_dir.glob("*_*.json")):
        found.setdefault(path.name.split("_")[0], []).extend(json.loads(path.read_text()))
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert sorted(manifest["ResultFiles"]) == ["FAILED", "SUCCEED"]
    return found


@pytest.mark.parametrize("wait", [False, True])
def test_result_writer_files_hold_exactly_the_children_that_ran(tmp_path, ran, wait):
    (tmp_path / "bkt").mkdir()
    xs = marked(2000, lambda i: i % 3 == 0)
    result = execute(flow(processor=MARKED, wait=wait, extra="""  MaxConcurrency: 4
  ToleratedFailureCount: 10
  ResultWriter:
    Parameters:
      Bucket: bkt
      Prefix: out"""), {"xs": xs}, store=tmp_path)
    assert result.error.code == ErrorCodes.TOLERANCE_EXCEEDED
    assert len(ran) < 40
    files = records(tmp_path, "out")
    names = sorted(int(r["ExecutionName"].rsplit("-", 1)[1]) for rs in files.values() for r in rs)
    assert names == sorted(ran)
    assert len(files["FAILED"]) == sum(1 for i in ran if i % 3 == 0) >= 11


# ----------------------------------------------------------------- EarlyStop itself


def child(index: int, ok: bool, items: int = 1) -> ChildExecution:
    return ChildExecution.make(f"c-{index}", index, "Succeeded" if ok else "Failed", None, None, None, None,
                               None, None, index, items)


def test_gate_pulls_lazily_and_closes_its_source_at_the_stop():
    pulled, closed = [], []

    def source():
        try:
            for i in range(1000):
                pulled.append(i)
                yield ChildInput(i, i, 1, i)
        finally:
            closed.append(True)

    stop = EarlyStop(lambda failed, total: failed > 1)
    results = list(stop.watch(child(c.index, ok=c.index % 2 == 0) for c in stop.gate(source())))
    assert [r.index for r in results] == [0, 1, 2, 3]  # the 2nd failure (child 3) stops it
    assert pulled == [0, 1, 2, 3] and closed == [True]
    assert stop.stopped and not stop.exhausted and stop.failed_items == 2


def test_the_rule_sees_the_total_only_once_known():
    seen = []

    def rule(failed, total):
        seen.append(total)
        return False

    stop = EarlyStop(rule)
    inputs = [ChildInput(i, i * 2, 2, None) for i in range(3)]
    list(stop.watch(child(c.index, ok=False, items=2) for c in stop.gate(inputs)))
    assert seen == [None] * 3 and stop.exhausted and stop.total_items == 6  # the end gives the total
    known = EarlyStop(rule, total_items=6)
    seen.clear()
    list(known.watch(child(c.index, ok=False, items=2) for c in known.gate(inputs)))
    assert seen == [6] * 3


def test_the_stop_never_changes_the_verdict():
    """Stop only when the failures seen already exceed the tolerance (on the true total): the full run
    would fail as well, whatever the children not started would have done."""
    state = interpreter(flow(extra="  ToleratedFailurePercentage: 25")).machine.graph["M"]
    for outcomes in ([False] * 3 + [True] * 9, [True] * 9 + [False] * 3, [False, True] * 6, [False] * 4 + [True] * 8):
        total = len(outcomes)
        stop = EarlyStop(lambda failed, known: fanout.tolerance_exceeded(state, failed, known or 0), total)
        ran = list(stop.watch(child(c.index, ok=outcomes[c.index])
                              for c in stop.gate(ChildInput(i, i, 1, None) for i in range(total))))
        full_fails = fanout.tolerance_exceeded(state, outcomes.count(False), total)
        if stop.stopped:
            assert full_fails and len(ran) < total
        else:
            assert len(ran) == total
        assert fanout.tolerance_exceeded(state, stop.failed_items, len(ran)) == full_fails
