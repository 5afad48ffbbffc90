"""The distributed Map, usable whole (``run_distributed``) or piecewise by the Airflow layer.

"Take the input and extract the items with ``ItemsPath``, or read them from OSS with
``ItemReader``. If ``ItemConstructor`` is set, transform each item. ``$Item`` refers to the original
item. If ``ItemBatcher`` is set, group items into batches. Pass each item or batch to a child
execution of ``Processor`` … After all children finish, collect the results into a JSON array, or
write them to OSS with ``ResultWriter``." Conformance rule 2 places ``MaxItems`` right after the
source. Everything streams: a million items are never held in memory (except the ``Items`` output
when no ResultWriter is set, which must hold every child's output anyway). In-process, a Map Run
stops starting children once its tolerance is exceeded (``early_stop``, docs/semantics.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from ..exceptions import ErrorCodes, FlowError, StoreError
from ..model import Map
from .batching import iter_batches
from .concurrency import effective_limit
from .children import ChildInput, in_index_order, run_child
from .context import ExecutionContext, new_map_run_name
from .early_stop import EarlyStop
from .evaluation import compiled, evaluate, items_from_path, reads_context
from .ports import StagedCounts
from .records import SUCCEEDED, ChildExecution

if TYPE_CHECKING:  # pragma: no cover
    from .interpreter import Interpreter

DISTRIBUTED_MAX_CONCURRENCY = 100
"""Distributed Map: "MaxConcurrency … Quota default **100**"."""


def _map_variables(template: Any, map_state: Map, map_input: Any, ctx: ExecutionContext) -> dict:
    variables = {"Input": map_input, "Global": ctx.globals}
    if reads_context(template):
        variables["Context"] = ctx.current(map_state.name, map_input)
    return variables


def _store(interpreter: "Interpreter", code: str):
    if interpreter.stores is None:
        raise FlowError(code, "no object store is configured (use --store DIR or an OSS/S3 connection)")
    try:
        return interpreter.stores.for_scheme(interpreter.store_scheme)
    except StoreError as exc:
        raise FlowError(code, str(exc)) from None


def iter_items(interpreter: "Interpreter", map_state: Map, map_input: Any, ctx: ExecutionContext) -> Iterator[Any]:
    """The Map's raw items, ``MaxItems`` applied: from the ItemReader, else from ``ItemsPath``."""
    return _sized_items(interpreter, map_state, map_input, ctx)[0]


def _sized_items(
    interpreter: "Interpreter", map_state: Map, map_input: Any, ctx: ExecutionContext
) -> tuple[Iterator[Any], int | None]:
    """``iter_items`` and the number of items when it is known before reading them (an ``ItemsPath``
    list); None for an ItemReader, which streams (its total is known only at its end)."""
    reader = map_state.item_reader
    if reader is None:
        items: list[Any] = items_from_path(map_state, map_input, ctx)
        if map_state.max_items:
            items = items[: map_state.max_items]
        return iter(items), len(items)
    parameters = evaluate(reader.source_parameters, _map_variables(reader.source_parameters, map_state, map_input, ctx))
    store = _store(interpreter, ErrorCodes.ITEM_READER_FAILED)
    stream = interpreter.stores.read_cloudflow_items(
        store,
        reader.source_type,
        parameters,
        csv_headers=reader.csv_headers,
        max_items=map_state.max_items or None,
    )
    return stream, None


def iter_child_inputs(
    interpreter: "Interpreter", map_state: Map, map_input: Any, ctx: ExecutionContext
) -> Iterator[ChildInput]:
    """Stream the children's inputs: items → ItemConstructor → ItemBatcher. A batch child's input
    is ``{"Items": [...]}``, plus ``"BatchInput"`` only when it is configured. An ASL Map
    (``map_state.asl``) is handed its raw state input and goes to ``asl_map``."""
    if map_state.asl is not None:
        from .asl.map import iter_child_inputs as asl_child_inputs

        yield from asl_child_inputs(interpreter, map_state, map_input, ctx)
        return
    yield from _child_inputs(interpreter, map_state, map_input, ctx)


def _child_inputs(
    interpreter: "Interpreter", map_state: Map, map_input: Any, ctx: ExecutionContext,
    on_total: Callable[[int], None] | None = None,
) -> Iterator[ChildInput]:
    """``iter_child_inputs`` of a CloudFlow Map; ``on_total(items)`` is told the number of items
    before the first child input when it is known up front (an ``ItemsPath`` list)."""
    items, total = _sized_items(interpreter, map_state, map_input, ctx)
    if on_total is not None and total is not None:
        on_total(total)
    constructor = map_state.item_constructor
    if constructor is not None:
        base = _map_variables(constructor, map_state, map_input, ctx)
        construct = compiled(constructor).run
        items = (construct({**base, "Item": item}) for item in items)
    batcher = map_state.item_batcher
    if batcher is None:
        for index, item in enumerate(items):
            yield ChildInput(index, index, 1, item)
        return
    batch_input = None
    if batcher.batch_input is not None:
        batch_input = evaluate(batcher.batch_input, _map_variables(batcher.batch_input, map_state, map_input, ctx))
    batches = iter_batches(
        items,
        max_items=batcher.max_items_per_batch,
        max_bytes=batcher.max_input_bytes_per_batch,
        batch_input=batch_input,
    )
    for index, (first, batch) in enumerate(batches):
        payload = {"Items": batch} if batcher.batch_input is None else {"BatchInput": batch_input, "Items": batch}
        yield ChildInput(index, first, len(batch), payload)


def tolerance_exceeded(map_state: Map, failed: int, total: int) -> bool:
    """"With no tolerance set, one failed child fails the Map. With ``ToleratedFailureCount`` N, the
    Map fails only when failures > N. With ``ToleratedFailurePercentage`` P, the Map fails only when
    failures / items × 100 > P." With both set, exceeding either fails the Map."""
    if failed <= 0:
        return False
    count, percentage = map_state.tolerated_failure_count, map_state.tolerated_failure_percentage
    if count is None and percentage is None:
        return True
    if count is not None and failed > count:
        return True
    if percentage is not None and total > 0 and failed * 100 > percentage * total:
        return True
    return False


def failed_slot(child: ChildExecution) -> dict[str, Any]:
    """A failed child's place in ``{"Items": [...]}`` when the Map tolerates it (docs/semantics.md)."""
    return {"ErrorCode": child.error_code, "Detail": child.error_detail}


class _Tally:
    """Counts items (a failed batch counts all its items) while children stream past."""

    __slots__ = ("total", "failed", "children", "failed_children")

    def __init__(self) -> None:
        self.total = self.failed = self.children = self.failed_children = 0

    def watch(self, children: Iterable[ChildExecution]) -> Iterator[ChildExecution]:
        for child in children:
            self.children += 1
            self.total += child.item_count
            if child.status != SUCCEEDED:
                self.failed += child.item_count
                self.failed_children += 1
            yield child

    def take(self, staged: "StagedCounts") -> None:
        """Counts the shards already made (their records were rendered where they ran)."""
        self.total, self.failed = staged.items, staged.failed_items
        self.children, self.failed_children = staged.children, staged.failed_children

    def check(self, map_state: Map) -> None:
        if tolerance_exceeded(map_state, self.failed, self.total):
            raise FlowError(
                ErrorCodes.TOLERANCE_EXCEEDED,
                f"{self.failed} of {self.total} items failed ({self.failed_children} of {self.children} "
                f"child executions), more than tolerated",
                state=map_state.name,
            )


def map_result(
    interpreter: "Interpreter",
    map_state: Map,
    children: Iterable[ChildExecution],
    *,
    map_run_name: str,
    map_input: Any,
    ctx: ExecutionContext,
    staged: "StagedCounts | None" = None,
) -> Any:
    """Turn the children into the Map's ``$Output``, or raise ``FnF.ExceedToleratedFailureThreshold``.

    Without ResultWriter: ``{"Items": [outputs in child order]}``. With it: the records and the
    manifest are written (also when the tolerance is exceeded) and the output is
    ``{"MapRunName", "ResultWriterDetails": {"Bucket", "Key"}}``. Children may come in any order.
    An ASL Map (``map_state.asl``) goes to ``asl_map.map_result``. ``staged``: with a ResultWriter,
    the records were already rendered by the shards that ran them (``planning.layouts``); ``children``
    is then not read.
    """
    if map_state.asl is not None:
        from .asl.map import map_result as asl_map_result

        return asl_map_result(interpreter, map_state, children, map_run_name=map_run_name, map_input=map_input,
                              ctx=ctx, staged=staged)
    tally = _Tally()
    writer = map_state.result_writer
    if writer is None:
        slots: dict[int, Any] = {}
        for child in tally.watch(children):
            slots[child.index] = child.output if child.status == SUCCEEDED else failed_slot(child)
        tally.check(map_state)
        return {"Items": [slots[i] for i in range(len(slots))]}
    params = evaluate(writer.parameters, _map_variables(writer.parameters, map_state, map_input, ctx))
    if not isinstance(params, dict) or not isinstance(params.get("Bucket"), str):
        raise FlowError(ErrorCodes.RESULT_WRITER_FAILED, "ResultWriter Parameters need a Bucket", state=map_state.name)
    bucket, prefix = params["Bucket"], params.get("Prefix") or ""
    store = _store(interpreter, ErrorCodes.RESULT_WRITER_FAILED)
    write = interpreter.stores.write_cloudflow_results
    if staged is not None:
        tally.take(staged)
        key = write(store, bucket=bucket, prefix=prefix, map_run_name=map_run_name, flow_name=ctx.flow_name,
                    staged=staged)
    else:
        key = write(store, bucket=bucket, prefix=prefix, map_run_name=map_run_name, flow_name=ctx.flow_name,
                    children=in_index_order(tally.watch(children)))
    tally.check(map_state)
    return {"MapRunName": map_run_name, "ResultWriterDetails": {"Bucket": bucket, "Key": key}}


def run_distributed(interpreter: "Interpreter", map_state: Map, map_input: Any, ctx: ExecutionContext, retry_count: int = 0) -> Any:
    """Run a distributed Map in-process: one MapRun (a fresh 32-hex name), children bounded by
    MaxConcurrency (default 100), then ``map_result``. Once the failures seen exceed the tolerance,
    no further child starts (``early_stop``; the running ones finish) and the Map fails with
    ``FnF.ExceedToleratedFailureThreshold``, its Detail saying what was not started. An ASL Map
    (``map_state.asl``) goes to ``asl_map.run_distributed``."""
    if map_state.asl is not None:
        from .asl.map import run_distributed as asl_run_distributed

        return asl_run_distributed(interpreter, map_state, map_input, ctx, retry_count)
    map_run_name = new_map_run_name()
    limit = effective_limit(map_state.max_concurrency, DISTRIBUTED_MAX_CONCURRENCY)
    # total None (an ItemReader not read to its end): tolerance_exceeded judges a percentage only
    # when total > 0, so 0 leaves just the count (or the no-tolerance rule)
    stop = EarlyStop(lambda failed, total: tolerance_exceeded(map_state, failed, total or 0))
    inputs = _child_inputs(interpreter, map_state, map_input, ctx, on_total=stop.know_total)

    def run(child: ChildInput) -> ChildExecution:
        return run_child(interpreter, map_state, child, map_run_name=map_run_name, ctx=ctx)

    children = stop.run(run, inputs, limit=limit, threaded=interpreter.may_block(map_state.processor))
    try:
        return map_result(interpreter, map_state, children, map_run_name=map_run_name, map_input=map_input, ctx=ctx)
    except FlowError as err:
        if stop.stopped and err.code == ErrorCodes.TOLERANCE_EXCEEDED and err.state == map_state.name:
            raise FlowError(err.code, f"{err.detail}; {stop.summary()}", state=err.state) from None
        raise


__all__ = [
    "ChildInput",
    "iter_items",
    "iter_child_inputs",
    "run_child",
    "tolerance_exceeded",
    "map_result",
    "in_index_order",
    "run_distributed",
]
