"""A child execution of a distributed Map, either dialect: its input, running it, putting children
back in order.

"Pass each item or batch to a child execution of ``Processor``": a child is an execution of its
own (``$Context.Execution`` is its name and input) and "cannot see the parent's ``$Global``".
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from ..exceptions import FlowError
from ..model import Map
from .context import ExecutionContext, child_execution_name
from .records import FAILED, SUCCEEDED, ChildExecution

if TYPE_CHECKING:  # pragma: no cover
    from .interpreter import Interpreter


@dataclass(frozen=True)
class ChildInput:
    """The input of child ``index``, covering items ``first_item`` … ``first_item+item_count-1``."""

    index: int
    first_item: int
    item_count: int
    input: Any


def run_child(
    interpreter: "Interpreter", map_state: Map, child: ChildInput, *, map_run_name: str, ctx: ExecutionContext
) -> ChildExecution:
    """Run one child execution of the Processor. It is an execution of its own: its
    ``$Context.Execution`` is its name and input, and it "cannot see the parent's ``$Global``"."""
    name = child_execution_name(map_run_name, child.index)
    child_ctx = ExecutionContext(name, child.input, clock=ctx.clock, flow_name=ctx.flow_name, deadline=ctx.deadline,
                                 max_transitions=ctx.max_transitions)
    try:
        output = interpreter.run_graph(map_state.processor, child.input, child_ctx)
    except FlowError as err:
        return ChildExecution.make(
            name, child.index, FAILED, child.input, None, err.code, err.detail,
            child_ctx.started, ctx.clock.now(), child.first_item, child.item_count,
        )
    return ChildExecution.make(
        name, child.index, SUCCEEDED, child.input, output, None, None,
        child_ctx.started, ctx.clock.now(), child.first_item, child.item_count,
    )


def in_index_order(children: Iterable[ChildExecution], start: int = 0) -> Iterator[ChildExecution]:
    """Re-order children arriving in completion order (a small heap holds the early ones)."""
    pending: list[tuple[int, ChildExecution]] = []
    expected = start
    for child in children:
        if child.index == expected and not pending:
            expected += 1
            yield child
            continue
        heapq.heappush(pending, (child.index, child))
        while pending and pending[0][0] == expected:
            expected += 1
            yield heapq.heappop(pending)[1]
    while pending:
        yield heapq.heappop(pending)[1]
