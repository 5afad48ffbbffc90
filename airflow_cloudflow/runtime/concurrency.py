"""Bounded concurrency for Parallel branches, inline Map iterations and distributed Map children.

"Run them in parallel, bounded by MaxConcurrency." Work that cannot block (no Task, no Wait)
gains nothing from threads under the GIL, so it runs on a fast sequential path; otherwise a thread
pool keeps at most ``limit`` units in flight, pulling inputs lazily (never materialising them).
The pool's threads come from the process's ``THREAD_BUDGET`` (runtime/bounds.py): MaxConcurrency
20,000 runs on at most ``CLOUDFLOW_MAX_THREADS`` threads and the rest queues; a pool granted no
thread runs its units in the caller's thread, so nested pools never wait on each other.
"""

from __future__ import annotations

import contextvars
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Callable, Iterable, Iterator, TypeVar

from ..model import Map, Parallel, StateGraph, Task, Wait
from .bounds import THREAD_BUDGET

T = TypeVar("T")
U = TypeVar("U")


def graph_may_block(graph: StateGraph, task_may_block: Callable[[str], bool] | None = None) -> bool:
    """True when a scope (or any scope inside it) holds a Wait, or a Task whose Action may block
    (``task_may_block(action)``; every Task when not given)."""
    for state in graph.states:
        if isinstance(state, Wait):
            return True
        if isinstance(state, Task) and (task_may_block is None or task_may_block(state.action)):
            return True
        if isinstance(state, Parallel) and any(graph_may_block(b, task_may_block) for b in state.branches):
            return True
        if isinstance(state, Map) and graph_may_block(state.processor, task_may_block):
            return True
    return False


def run_bounded(
    func: Callable[[T], U],
    inputs: Iterable[T],
    *,
    limit: int,
    threaded: bool,
) -> Iterator[U]:
    """Yield ``func(x)`` for every input, at most ``limit`` at a time, in completion order.

    Fail-fast: the first exception stops new work from starting; the units already running are
    awaited (so none outlives the state), then the exception is raised. Each unit runs in a copy of
    the caller's context (the sub-flow depth travels with it).
    """
    threads = THREAD_BUDGET.take(limit) if threaded and limit > 1 else 0
    try:
        if threads <= 1:
            for item in inputs:
                yield func(item)
            return
        yield from _pooled(func, inputs, threads)
    finally:
        THREAD_BUDGET.give_back(threads)


def _pooled(func: Callable[[T], U], inputs: Iterable[T], limit: int) -> Iterator[U]:
    source = iter(inputs)
    with ThreadPoolExecutor(max_workers=limit, thread_name_prefix="cloudflow") as pool:
        running: set[Future[U]] = set()
        exhausted = False
        try:
            while True:
                while not exhausted and len(running) < limit:
                    try:
                        item = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    running.add(pool.submit(contextvars.copy_context().run, func, item))
                if not running:
                    return
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            for future in running:
                future.cancel()
            wait(running)


def effective_limit(max_concurrency: int | None, default: int) -> int:
    """MaxConcurrency, with ``default`` when omitted or 0 (0 = no explicit limit -> default)."""
    if not max_concurrency or max_concurrency <= 0:
        return default
    return max_concurrency
