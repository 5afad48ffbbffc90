"""Bounded concurrency: limit honoured, sequential fast path, fail-fast."""

from __future__ import annotations

import threading

import pytest

from airflow_cloudflow.runtime.concurrency import effective_limit, graph_may_block, run_bounded
from tests.runtime.flows import machine


def test_sequential_path_keeps_order_and_uses_no_threads():
    seen = []
    out = list(run_bounded(lambda x: (seen.append(threading.current_thread()), x * 2)[1], range(5), limit=4, threaded=False))
    assert out == [0, 2, 4, 6, 8]
    assert set(seen) == {threading.current_thread()}


def test_threaded_path_honours_the_limit():
    limit = 4
    barrier = threading.Barrier(limit, timeout=20)
    lock = threading.Lock()
    counts = {"active": 0, "peak": 0}

    def work(x):
        with lock:
            counts["active"] += 1
            counts["peak"] = max(counts["peak"], counts["active"])
        barrier.wait()
        with lock:
            counts["active"] -= 1
        return x

    assert sorted(run_bounded(work, range(12), limit=limit, threaded=True)) == list(range(12))
    assert counts["peak"] == limit


def test_first_error_stops_new_work():
    started = []

    def work(x):
        started.append(x)
        if x == 1:
            raise ValueError("boom")
        return x

    with pytest.raises(ValueError):
        list(run_bounded(work, range(1000), limit=2, threaded=True))
    assert len(started) < 1000


def test_inputs_are_pulled_lazily():
    pulled = []

    def source():
        for i in range(100):
            pulled.append(i)
            yield i

    gen = run_bounded(lambda x: x, source(), limit=1, threaded=False)
    assert next(gen) == 0 and pulled == [0]


def test_effective_limit_defaults():
    assert effective_limit(None, 40) == 40 and effective_limit(0, 40) == 40 and effective_limit(3, 40) == 3


def test_graph_may_block():
    wait = machine("- Type: Wait\n  Name: W\n  Seconds: 1\n  End: true").graph
    passes = machine("- Type: Pass\n  Name: P\n  End: true").graph
    task = machine("- Type: Task\n  Name: T\n  Action: A:B\n  End: true").graph
    assert graph_may_block(wait) and not graph_may_block(passes)
    assert graph_may_block(task) and not graph_may_block(task, lambda action: False)
