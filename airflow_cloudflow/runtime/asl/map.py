"""The ASL Map: items, ItemSelector, ItemBatcher, inline iterations and the distributed Map Run.

"``InputPath``, then items, ItemSelector, ItemBatcher and the children" (§2.8). Items come from the
``ItemReader`` ("When ``ItemReader`` is present, ``ItemsPath`` is ignored entirely" [REC]), else
``ItemsPath`` (JSONPath, default ``$``) or ``Items`` (JSONata). "ItemSelector … evaluated **once per
item, in the parent's context** … ``$$.Map.Item.Index`` … ``$$.Map.Item.Value``. Plain ``$`` means
the Map state's effective input". "Each child receives ``{"BatchInput": …, "Items": [ … ]}``;
``BatchInput`` is omitted when it is not configured". With ``ResultWriter`` the output is
``{MapRunArn, ResultWriterDetails}``.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from airflow_cloudflow.exceptions import FlowError, StoreError
from airflow_cloudflow.expressions.asl.jsonata_expr import compact, json_type
from airflow_cloudflow.model import Expression, Map
from airflow_cloudflow.runtime.asl.context import arn, context_object, prepare, variables_for
from airflow_cloudflow.runtime.asl.records import arns, child_record
from airflow_cloudflow.runtime.asl.values import (
    max_concurrency, positive_or_none, resolve, tolerated_count, tolerated_percentage,
)
from airflow_cloudflow.runtime.batching import iter_batches
from airflow_cloudflow.runtime.children import ChildInput, in_index_order, run_child
from airflow_cloudflow.runtime.context import ExecutionContext
from airflow_cloudflow.runtime.evaluation import evaluate
from airflow_cloudflow.runtime.records import SUCCEEDED, ChildExecution

if TYPE_CHECKING:  # pragma: no cover
    from airflow_cloudflow.runtime.interpreter import Interpreter

QUERY = "States.QueryEvaluationError"
TOLERANCE = "States.ExceedToleratedFailureThreshold"
TOLERANCE_CAUSE = "The specified tolerated failure threshold was exceeded"


class MapView:
    """The Map's effective input and evaluation dicts, worked out once per Map entry."""

    def __init__(self, state: Map, raw: Any, ctx: ExecutionContext, context: dict | None = None):
        from airflow_cloudflow.runtime.asl.run import input_path

        prepare(ctx)
        self.state, self.raw, self.ctx = state, raw, ctx
        self.io = state.asl
        self.context = context or context_object(ctx, state.name)
        self.value = raw if self.io.jsonata else input_path(self.io, raw, ctx, self.context)
        self.variables = variables_for(ctx, self.value, self.context)

    def item_variables(self, index: int, item: Any) -> dict[str, Any]:
        context = {**self.context, "Map": {"Item": {"Index": index, "Value": item}}}
        return variables_for(self.ctx, self.value, context)

    def map_run_label(self) -> str | None:
        return self.state.asl_map.label if self.state.asl_map else None

    # ---------------------------------------------------------------- validation before the Map Run

    def limits(self) -> tuple[int | None, int | None, float | None]:
        """(MaxConcurrency, ToleratedFailureCount, ToleratedFailurePercentage), validated."""
        config = self.state.asl_map
        if config is None:
            return self.state.max_concurrency, None, None
        return (max_concurrency(config.max_concurrency, self.variables),
                tolerated_count(config.tolerated_failure_count, self.variables),
                tolerated_percentage(config.tolerated_failure_percentage, self.variables))

    # ---------------------------------------------------------------- items

    def items(self, interpreter: "Interpreter") -> Iterator[Any]:
        return self.sized_items(interpreter)[0]

    def sized_items(self, interpreter: "Interpreter") -> tuple[Iterator[Any], int | None]:
        """The raw items, and their number when it is known before reading them (an array from
        ``ItemsPath`` or ``Items``); None for an ItemReader, which streams."""
        reader = self.state.item_reader
        if reader is not None:
            return self._read(interpreter), None
        config = self.state.asl_map
        if config is not None and config.items is not None:
            items = evaluate(config.items, self.variables)
            if not isinstance(items, list):
                source = config.items.source if isinstance(config.items, Expression) else compact(items)
                raise FlowError(QUERY, f"The JSONata expression '{source}' specified for the field 'Items' returned "
                                       f"an unexpected result type. Expected 'array', but was '{json_type(items)}' "
                                       f"for value: {compact(items)}")
            return iter(items), len(items)
        items = self.value if self.state.items_path is None else evaluate(self.state.items_path, self.variables)
        if not isinstance(items, list):
            code = QUERY if self.io.jsonata else "States.Runtime"
            raise FlowError(code, f"Map state input must be an array but was: {compact(items)}")
        return iter(items), len(items)

    def _read(self, interpreter: "Interpreter") -> Iterator[Any]:
        reader = self.state.item_reader
        max_items = resolve(reader.max_items, self.variables)
        parameters = evaluate(reader.source_parameters, self.variables)
        config = evaluate(reader.reader_config, self.variables) if reader.reader_config is not None else {}
        if interpreter.stores is None:
            raise FlowError("States.ItemReaderFailed", "no object store is configured (use --store DIR or an S3 connection)")
        try:
            store = interpreter.stores.for_scheme(interpreter.store_scheme)
        except StoreError as exc:
            raise FlowError("States.ItemReaderFailed", str(exc)) from None
        return interpreter.stores.read_asl_items(store, reader.resource or reader.source_type, parameters, config,
                                                 max_items=max_items)

    def selected(self, interpreter: "Interpreter", items: Iterator[Any] | None = None) -> Iterator[Any]:
        """Items (``items``, else ``self.items``) after ItemSelector (evaluated in the parent's
        context, per item)."""
        selector = self.state.item_constructor
        if items is None:
            items = self.items(interpreter)
        if selector is None:
            return items
        return (evaluate(selector, self.item_variables(i, item)) for i, item in enumerate(items))


def iter_child_inputs(interpreter: "Interpreter", state: Map, raw: Any, ctx: ExecutionContext) -> Iterator["ChildInput"]:
    """The children's inputs of a distributed Map entered with ``raw`` (items or batches)."""
    yield from _child_inputs(interpreter, state, raw, ctx)


def _child_inputs(interpreter: "Interpreter", state: Map, raw: Any, ctx: ExecutionContext,
                  on_total: Callable[[int], None] | None = None) -> Iterator["ChildInput"]:
    """``iter_child_inputs``; ``on_total(items)`` is told the number of items before the first
    child input when it is known up front (an array, not an ItemReader)."""
    view = MapView(state, raw, ctx)
    view.limits()
    raw_items, total = view.sized_items(interpreter)
    if on_total is not None and total is not None:
        on_total(total)
    items = view.selected(interpreter, raw_items)
    batcher = state.item_batcher
    if batcher is None:
        for index, item in enumerate(items):
            yield ChildInput(index, index, 1, item)
        return
    per_batch = positive_or_none(batcher.max_items_per_batch_value, view.variables)
    per_bytes = positive_or_none(batcher.max_input_bytes_per_batch_value, view.variables)
    batch_input = evaluate(batcher.batch_input, view.variables) if batcher.batch_input is not None else None
    batches = iter_batches(items, max_items=per_batch, max_bytes=per_bytes, batch_input=batch_input)
    for index, (first, batch) in enumerate(batches):
        payload = {"Items": batch} if batcher.batch_input is None else {"BatchInput": batch_input, "Items": batch}
        yield ChildInput(index, first, len(batch), payload)


def map_run_arn(state: Map, ctx: ExecutionContext, map_run_name: str) -> str:
    """``arn:aws:states:<region>:<account>:mapRun:<machine>/<label or generated>:<uuid>``."""
    label = (state.asl_map.label if state.asl_map else None) or map_run_name[:8]
    return arn("mapRun", f"{ctx.flow_name}/{label}:{uuid.UUID(hex=map_run_name)}")


def tolerance_exceeded(failed: int, total: int, count: int | None, percentage: float | None) -> bool:
    """"The Map Run fails when the result is *strictly greater* than ``ToleratedFailurePercentage``";
    "failed > ``ToleratedFailureCount``"; "The default is 0"."""
    if failed <= 0:
        return False
    if count is None and percentage is None:
        return True
    if count is not None and failed > count:
        return True
    return percentage is not None and total > 0 and failed * 100 > percentage * total


def _error_slot(child: ChildExecution) -> dict[str, Any]:
    return {"Error": child.error_code, "Cause": child.error_detail}


class _Counts:
    """Counts items (a failed batch counts all its items) while the children stream past."""

    __slots__ = ("total", "failed")

    def __init__(self) -> None:
        self.total = self.failed = 0

    def watch(self, children: Iterable[ChildExecution]) -> Iterator[ChildExecution]:
        for child in children:
            self.total += child.item_count
            if child.status != SUCCEEDED:
                self.failed += child.item_count
            yield child


def express_children(state: Map) -> bool:
    """Whether the Map's children are Express executions (``ProcessorConfig.ExecutionType: EXPRESS``)."""
    return state.asl_map is not None and state.asl_map.execution_type == "EXPRESS"


def map_result(interpreter: "Interpreter", state: Map, children: Iterable[ChildExecution], *, map_run_name: str,
               map_input: Any, ctx: ExecutionContext, staged=None) -> Any:
    """The Map's result from its children (any order): the outputs in order, or the ResultWriter's
    ``{MapRunArn, ResultWriterDetails}``; ``States.ExceedToleratedFailureThreshold`` when more children
    failed than tolerated. With a ResultWriter the children stream into the record files (memory
    stays flat however many there are); only the inline result holds them all. ``staged``: the
    shards rendered the records already (``planning.layouts``); ``children`` is not read."""
    view = MapView(state, map_input, ctx)
    _, count, percentage = view.limits()
    counts = _Counts()
    ordered = counts.watch(in_index_order(children))
    writer = state.result_writer
    arn_ = map_run_arn(state, ctx, map_run_name)
    output: Any
    if writer is not None and writer.resource:
        try:
            params = evaluate(writer.parameters, view.variables)
            if not isinstance(params, dict) or not isinstance(params.get("Bucket"), str):
                raise FlowError("States.ResultWriterFailed", "ResultWriter Parameters need a Bucket")
            try:
                store = interpreter.stores.for_scheme(interpreter.store_scheme)
            except (StoreError, AttributeError) as exc:
                raise FlowError("States.ResultWriterFailed", str(exc)) from None
        except FlowError:
            if staged is None:
                for _ in ordered:  # the children still run to the end before the writer fails
                    pass
            raise
        if staged is not None:
            counts.total, counts.failed = staged.items, staged.failed_items
            written = interpreter.stores.write_asl_results(
                store, bucket=params["Bucket"], prefix=params.get("Prefix") or "", map_run_arn=arn_, staged=staged,
                writer_config=writer.writer_config, express=express_children(state))
        else:
            written = interpreter.stores.write_asl_results(
                store, bucket=params["Bucket"], prefix=params.get("Prefix") or "", map_run_arn=arn_, children=ordered,
                writer_config=writer.writer_config, express=express_children(state))
        output = {"MapRunArn": arn_, "ResultWriterDetails": written["ResultWriterDetails"]}
    else:
        config = writer.writer_config if writer is not None else None
        if isinstance(config, dict) and config.get("Transformation") == "NONE":
            sm_arn, prefix, _ = arns(arn_, express_children(state))
            output = [child_record(c, sm_arn, prefix)[1] for c in ordered]
        else:
            slots = [c.output if c.status == SUCCEEDED else _error_slot(c) for c in ordered]
            output = _formatted(slots, config)
    if tolerance_exceeded(counts.failed, counts.total, count, percentage):
        raise FlowError(TOLERANCE, TOLERANCE_CAUSE, state=state.name)
    return output


def _formatted(slots: list, config: Any) -> Any:
    """``WriterConfig`` alone: "the formatted results become the *state output*": ``COMPACT`` (the
    default) keeps the outputs, ``FLATTEN`` flattens array outputs one level (``NONE``, the full
    execution records, is built by the caller)."""
    if isinstance(config, dict) and config.get("Transformation") == "FLATTEN":
        out: list = []
        for slot in slots:
            out.extend(slot if isinstance(slot, list) else [slot])
        return out
    return slots


def run_distributed(interpreter: "Interpreter", state: Map, raw: Any, ctx: ExecutionContext, retry_count: int = 0) -> Any:
    """One Map Run in-process: children bounded by MaxConcurrency (0/absent: 10,000 here capped by
    the fan-out's pool), each a child execution of its own (it "cannot read outer-scope variables").
    Once the failures seen exceed the tolerance no further child starts (``early_stop``; the
    running ones finish) and the Map fails with ``States.ExceedToleratedFailureThreshold``."""
    from airflow_cloudflow.runtime.concurrency import effective_limit
    from airflow_cloudflow.runtime.context import new_map_run_name
    from airflow_cloudflow.runtime.early_stop import EarlyStop

    view = MapView(state, raw, ctx)
    concurrency, count, percentage = view.limits()
    limit = effective_limit(concurrency, 100)
    map_run_name = new_map_run_name()
    # total None (an ItemReader not read to its end): tolerance_exceeded judges a percentage only
    # when total > 0, so 0 leaves just the count (or the default 0)
    stop = EarlyStop(lambda failed, total: tolerance_exceeded(failed, total or 0, count, percentage))
    inputs = _child_inputs(interpreter, state, raw, ctx, on_total=stop.know_total)
    children = stop.run(lambda child: run_child(interpreter, state, child, map_run_name=map_run_name, ctx=ctx),
                        inputs, limit=limit, threaded=interpreter.may_block(state.processor))
    return map_result(interpreter, state, children, map_run_name=map_run_name, map_input=raw, ctx=ctx)
