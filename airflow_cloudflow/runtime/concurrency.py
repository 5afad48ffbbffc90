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
from . import cancellation
from .bounds import THREAD_BUDGET

T = TypeVar("T")
U = TypeVar("U")

INLINE_MAX_CONCURRENCY = 40
"""Inline Map: "Inline maximum and default is **40**"."""


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

    Fail-fast: the first exception stops new work from starting and cancels the units still running
    (they run under one ``cancellation`` token, a child of the caller's, which their Waits, Retry
    intervals and Task calls observe); once they have stopped, the exception is raised. A unit that
    ended ``Cancelled`` never hides the failure that caused the stop. Threads come from the
    process-wide ``THREAD_BUDGET`` (runtime/bounds.py); a pool that gets none runs its units in the
    caller's thread. Each unit runs in a copy of the caller's context (the sub-flow depth travels
    with it).
    """
    threads = THREAD_BUDGET.take(limit) if threaded and limit > 1 else 0
    try:
        if threads <= 1:
            for item in inputs:
                cancellation.check()
                yield func(item)
            return
        yield from _pooled(func, inputs, threads)
    finally:
        THREAD_BUDGET.give_back(threads)


def _pooled(func: Callable[[T], U], inputs: Iterable[T], limit: int) -> Iterator[U]:
    source = iter(inputs)
    scope = cancellation.current().child()

    def unit(item: T) -> U:
        with cancellation.running_under(scope):
            return func(item)

    failure: BaseException | None = None
    with ThreadPoolExecutor(max_workers=limit, thread_name_prefix="cloudflow") as pool:
        running: set[Future[U]] = set()
        exhausted = False
        try:
            while failure is None:
                while not exhausted and len(running) < limit:
                    try:
                        item = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    running.add(pool.submit(contextvars.copy_context().run, unit, item))
                if not running:
                    return
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    error = future.exception()
                    if error is not None:
                        failure = _first_cause(failure, error)
                    elif failure is None:
                        yield future.result()
        finally:
            scope.cancel()  # a failure, or the consumer stopped (an exception, a signal): stop the rest
            for future in running:
                future.cancel()
            for future in wait(running).done:
                if not future.cancelled() and future.exception() is not None:
                    failure = _first_cause(failure, future.exception())
            scope.close()
        if failure is not None:
            raise failure


def _first_cause(found: BaseException | None, error: BaseException) -> BaseException:
    """The failure to raise: the first one that is not a unit stopped because of another."""
    if found is None or (isinstance(found, cancellation.Cancelled) and not isinstance(error, cancellation.Cancelled)):
        return error
    return found


def effective_limit(max_concurrency: int | None, default: int) -> int:
    """MaxConcurrency, with ``default`` when omitted or 0 (0 = no explicit limit -> default)."""
    if not max_concurrency or max_concurrency <= 0:
        return default
    return max_concurrency
