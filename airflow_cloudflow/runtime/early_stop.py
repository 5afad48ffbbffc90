"""Early stop of a distributed Map Run, for both dialects.

Step Functions stops a Map Run as soon as its tolerated failures are exceeded, and CloudFlow
follows the same tolerance; without this, a Map whose processor is broken would run every one of
its (say) million children before failing. ``EarlyStop`` sits on both sides of ``run_bounded``:

* ``gate(inputs)`` hands out the children's inputs, pulling them lazily one at a time (the items
  still stream: nothing is read ahead), and starts no new child once the failures seen so far
  exceed the tolerance; the input iterator is then closed, so an ItemReader is not read further.
* ``watch(children)`` counts the finished children (a failed batch counts all its items) as they
  pass on to ``map_result``, which still judges the final tolerance over what ran.

Children already running when the stop is decided are let finish and are recorded: stopping a
child mid-Task could leave a half-done side effect, and at most MaxConcurrency children are in
flight, so the overshoot is bounded: the children that ran are the ones finished when the stop was
decided plus at most ``MaxConcurrency - 1`` still running (exactly none on the sequential path,
which runs one child at a time).

The rule is ``exceeded(failed_items, total_items)``, where ``total_items`` is None while the
total is not known (an ItemReader not yet read to its end): the rule must then judge only what
does not need the total (the count). Since ``exceeded`` only ever sees failures that really
happened and the true total (or none), a Map is stopped only when running every child would have
failed it too: more children can only add failures, never remove them.
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator, Protocol

from .concurrency import run_bounded
from .records import SUCCEEDED, ChildExecution


class _Input(Protocol):  # fanout.ChildInput
    item_count: int


class EarlyStop:
    """Gates one Map Run's child inputs on the failures its finished children show.

    Not thread-safe, and it needs not be: ``run_bounded`` pulls its inputs and hands out its
    results on the consuming thread (the worker threads only run the children)."""

    __slots__ = ("exceeded", "total_items", "started_children", "started_items", "finished_children",
                 "failed_children", "failed_items", "stopped", "exhausted")

    def __init__(self, exceeded: Callable[[int, int | None], bool], total_items: int | None = None):
        self.exceeded = exceeded
        self.total_items = total_items  # items of the whole Map Run, when known
        self.started_children = self.started_items = 0
        self.finished_children = self.failed_children = self.failed_items = 0
        self.stopped = False  # True once the gate refused to start a child
        self.exhausted = False  # True once every input was handed out

    def know_total(self, total_items: int) -> None:
        """The Map Run's number of items, learnt before its first child starts (an item list)."""
        self.total_items = total_items

    def tripped(self) -> bool:
        """Whether the failures seen so far already exceed the tolerance."""
        return self.failed_items > 0 and self.exceeded(self.failed_items, self.total_items)

    def gate(self, inputs: Iterable[_Input]) -> Iterator[_Input]:
        """``inputs``, one at a time, until the tolerance is exceeded (then the source is closed)."""
        source = iter(inputs)
        try:
            while True:
                if self.tripped():
                    self.stopped = True
                    return
                try:
                    child = next(source)
                except StopIteration:
                    self.exhausted = True
                    if self.total_items is None:  # the reader's end: from now on the total is known
                        self.total_items = self.started_items
                    return
                self.started_children += 1
                self.started_items += child.item_count
                yield child
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    def watch(self, children: Iterable[ChildExecution]) -> Iterator[ChildExecution]:
        """``children`` unchanged, counted as they finish."""
        for child in children:
            self.finished_children += 1
            if child.status != SUCCEEDED:
                self.failed_children += 1
                self.failed_items += child.item_count
            yield child

    def run(self, run_child: Callable[[_Input], ChildExecution], inputs: Iterable[_Input], *, limit: int,
            threaded: bool) -> Iterator[ChildExecution]:
        """``run_bounded`` over the gated inputs, its results watched (in completion order)."""
        return self.watch(run_bounded(run_child, self.gate(inputs), limit=limit, threaded=threaded))

    def summary(self) -> str:
        """What the stop left out, for an error's Detail (the counts before it are of what ran)."""
        if self.total_items is None:
            return "the Map Run stopped early: the items not yet read were not started"
        rest = self.total_items - self.started_items
        return f"the Map Run stopped early: {rest} of {self.total_items} items were not started"


__all__ = ["EarlyStop"]
