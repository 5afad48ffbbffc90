"""What each planned step does at run time, without Airflow: the operators only move data.

Every step receives a ``Handoff`` from the step that ran before it (the state's raw input, the
execution's ``$Global`` so far) and returns one (its output, the state it names as next). Airflow
carries handoffs by XCom; here they are plain frozen records, so the semantics are tested directly.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable

from ..exceptions import ErrorCodes, FlowError
from ..model import Map, Parallel, State, Wait
from ..runtime.context import ExecutionContext, new_map_run_name
from ..runtime.concurrency import effective_limit
from ..runtime.fanout import DISTRIBUTED_MAX_CONCURRENCY, iter_child_inputs, map_result, run_distributed
from ..runtime.children import ChildInput, run_child
from .layouts import result_layout
from ..runtime.interpreter import Interpreter
from .shards import (
    ShardRef, ShardSummary, Staging, iter_results, map_run_stopped, run_shard, shard_state, staged_results,
    write_shards,
)
from .progress import map_run_summary, write_map_run, write_summary
from .sizing import ShardPlan


@dataclass(frozen=True)
class Handoff:
    """What one step hands the next: an output, the next state's name (None: the scope ended),
    and ``$Global`` as it stands after the step."""

    output: Any
    next: str | None
    globals: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"output": self.output, "next": self.next, "globals": self.globals}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Handoff":
        return cls(data.get("output"), data.get("next"), data.get("globals") or {})


def new_context(
    interpreter: Interpreter, execution_name: str, execution_input: Any, globals_: dict,
    started: datetime | None = None,
) -> ExecutionContext:
    """The execution context rebuilt inside one task: the same name, input, start time and
    flow-level ``Timeout`` deadline for every task of a run (``started``: when the run started)."""
    ctx = interpreter.new_context(execution_input, execution_name)
    ctx.globals = dict(globals_)
    if started is not None:
        ctx.started = started
        timeout = interpreter.machine.timeout_seconds
        ctx.deadline = started + timedelta(seconds=timeout) if timeout else None
    return ctx


def run_state_step(interpreter: Interpreter, state: State, given: Handoff, ctx: ExecutionContext) -> Handoff:
    """One state with its Retry/Catch (``Interpreter.run_state``); FlowError if uncaught."""
    step = interpreter.run_state(state, given.output, ctx)
    return Handoff(step.output, step.next, ctx.globals)


def run_region_step(
    interpreter: Interpreter, machine_scope, region: Iterable[str], entry: str, given: Handoff, ctx: ExecutionContext
) -> Handoff:
    """A cyclic region, interpreted from ``entry`` until control leaves the region or the scope ends."""
    members = set(region)
    state = machine_scope[entry]
    value = given.output
    while True:
        step = interpreter.run_state(state, value, ctx)
        value = step.output
        if step.next is None or step.next not in members:
            return Handoff(value, step.next, ctx.globals)
        state = machine_scope[step.next]


def wait_state_input(interpreter: Interpreter, state: Wait, given: Handoff, ctx: ExecutionContext) -> tuple[Any, float]:
    """A Wait's input (after InputConstructor) and its seconds, so the wait itself can be deferred."""
    value = interpreter.construct_input(state, given.output, ctx)
    return value, interpreter.wait_seconds(state, value, ctx)


def wait_state_finish(interpreter: Interpreter, state: Wait, value: Any, ctx: ExecutionContext) -> Handoff:
    """The rest of a Wait once the time has passed: "Output = input", then the constructors."""
    output = interpreter.finish_state(state, value, value, ctx)
    return Handoff(output, None if state.end else state.next, ctx.globals)


def parallel_start_step(interpreter: Interpreter, state: Parallel, given: Handoff, ctx: ExecutionContext) -> Handoff:
    """"Every branch receives the same input: the Parallel state's input after its InputConstructor"."""
    value = interpreter.construct_input(state, given.output, ctx)
    return Handoff(value, None, ctx.globals)


def parallel_join_step(
    interpreter: Interpreter, state: Parallel, start: Handoff, branch_results: list[Handoff], ctx: ExecutionContext
) -> Handoff:
    """"The combined output is a map keyed ``Branch<Index>``"; then OutputConstructor/GlobalConstructor.
    What each branch changed in ``$Global`` is merged in branch order (a key a branch left alone
    keeps the value another branch gave it)."""
    for result in branch_results:
        changed = {k: v for k, v in result.globals.items() if k not in start.globals or start.globals[k] != v}
        ctx.globals = {**ctx.globals, **changed}
    raw = {f"Branch{i}": result.output for i, result in enumerate(branch_results)}
    output = interpreter.finish_state(state, start.output, raw, ctx)
    return Handoff(output, state.next if not state.end else None, ctx.globals)


# --------------------------------------------------------------------------- distributed Map


@dataclass(frozen=True)
class MapRun:
    """What the ItemReader step tells the processor and ResultWriter steps (small: XCom)."""

    map_run_name: str
    raw_input: Any  # the Map's input as received (its Retry/Catch start from it)
    globals: dict[str, Any]
    staging_prefix: str
    shards: tuple[ShardRef, ...]
    error: dict[str, Any] | None = None  # the reader's FlowError, replayed by the ResultWriter step
    plan: str = ""  # why this many shards (the planner's reason, for the log)
    tolerance: tuple[int | None, float | None] | None = None  # (count, percentage); None: not evaluable

    @property
    def total_items(self) -> int:
        return sum(s.item_count for s in self.shards)

    def to_json(self) -> dict[str, Any]:
        return {
            "map_run_name": self.map_run_name, "raw_input": self.raw_input,
            "globals": self.globals, "staging_prefix": self.staging_prefix,
            "shards": [s.to_json() for s in self.shards], "error": self.error, "plan": self.plan,
            "tolerance": None if self.tolerance is None else list(self.tolerance),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "MapRun":
        tolerance = data.get("tolerance")
        return cls(data["map_run_name"], data["raw_input"], data.get("globals") or {},
                   data["staging_prefix"], tuple(ShardRef.from_json(s) for s in data["shards"]), data.get("error"),
                   data.get("plan", ""), None if tolerance is None else (tolerance[0], tolerance[1]))


def map_read_step(
    interpreter: Interpreter,
    state: Map,
    given: Handoff,
    ctx: ExecutionContext,
    staging_for,  # Callable[[str], Staging]: map run name → its staging area
    *,
    plan_for: Callable[[int], ShardPlan],
) -> MapRun:
    """ItemReader/ItemsPath → MaxItems → ItemConstructor → ItemBatcher → shards in staging, as
    many and as large as ``plan_for(children)`` says (``planning/sizing.py``).

    A reading error is not raised here: it is recorded and replayed by the ResultWriter step inside
    ``run_state``, so the Map's own Retry and Catch see it exactly as in the interpreter.
    """
    map_run_name = new_map_run_name()
    staging = staging_for(map_run_name)
    plans: list[ShardPlan] = []

    def size_for(total: int) -> int:
        plans.append(plan_for(total))
        return plans[-1].size

    try:
        map_input = interpreter.construct_input(state, given.output, ctx)
        children = iter_child_inputs(interpreter, state, map_input, ctx)
        shards = tuple(write_shards(children, staging, size_for=size_for))
        error = None
    except FlowError as err:
        shards, error = (), err.as_dict()
    reason = plans[-1].reason if plans else ""
    run = MapRun(map_run_name, given.output, dict(ctx.globals), staging.prefix, shards, error, reason,
                 None if error else map_tolerance(state, given.output, ctx))
    write_map_run(staging, _map_run_record(state, run, ctx))
    return run


def _map_run_record(state: Map, run: "MapRun", ctx: ExecutionContext) -> dict[str, Any]:
    """``maprun.json``: what the Map Run view shows of a Map Run before and while its shards run."""
    arn = None
    if state.asl is not None:
        from ..runtime.asl.map import map_run_arn

        arn = map_run_arn(state, ctx, run.map_run_name)
    concurrency = state.max_concurrency if isinstance(state.max_concurrency, int) else None
    return {"map_run_name": run.map_run_name, "map_run_arn": arn, "state": state.name,
            "dialect": "asl" if state.asl is not None else "cloudflow", "total_items": run.total_items,
            "shard_children": [s.child_count for s in run.shards],
            "tolerance": None if run.tolerance is None else list(run.tolerance),
            "max_concurrency": concurrency, "error": run.error}


def map_tolerance(state: Map, raw_input: Any, ctx: ExecutionContext) -> tuple[int | None, float | None] | None:
    """(ToleratedFailureCount, ToleratedFailurePercentage) as this Map Run evaluates them (ASL may
    compute them from the input: ``…Path``); None when they cannot be evaluated (the ResultWriter
    step then raises the error, as the interpreter would)."""
    if state.asl is None:
        return state.tolerated_failure_count, state.tolerated_failure_percentage
    from ..runtime.asl.map import MapView

    try:
        _, count, percentage = MapView(state, raw_input, ctx).limits()
    except FlowError:
        return None
    return count, percentage


def stop_rule(tolerance: tuple[int | None, float | None] | None) -> Callable[[int, int], bool] | None:
    """``exceeded(failed_items, total_items)`` for a Map Run's tolerance ("failures > count",
    "failed / items × 100 > percentage", no tolerance: one failure)."""
    if tolerance is None:
        return None
    from ..runtime.asl.map import tolerance_exceeded

    count, percentage = tolerance
    return lambda failed, total: tolerance_exceeded(failed, total, count, percentage)


def map_process_step(
    interpreter: Interpreter, state: Map, map_run_name: str, shard: ShardRef, staging: Staging,
    ctx: ExecutionContext, *, concurrency: int, tolerance: tuple[int | None, float | None] | None = None,
    total_items: int = 0,
) -> ShardSummary:
    """Run one shard's children (idempotent on retry: recorded children are not run again) and,
    with a ResultWriter, render their records where they ran. With the Map Run's ``tolerance``, the
    shard stops starting children once the Map Run's failures exceed it (early stop)."""

    def run_one(index: int, first_item: int, item_count: int, value: Any):
        return run_child(interpreter, state, ChildInput(index, first_item, item_count, value),
                         map_run_name=map_run_name, ctx=ctx)

    def layout_for(generation: int):
        return result_layout(state, ctx, map_run_name, redrive_count=generation)

    return run_shard(staging, shard, run_one, concurrency=concurrency, layout_for=layout_for,
                     stop_when=stop_rule(tolerance), total_items=total_items, definition=map_fingerprint(state),
                     redrive_count=ctx.redrive_count)


def redrive_stragglers(interpreter: Interpreter, state: Map, run: "MapRun", staging: Staging,
                       ctx: ExecutionContext) -> list[ShardSummary]:
    """A redrive (``ctx.redrive_count`` > 0) reaches the ResultWriter step: a shard that finished
    before the Map Run's tolerance was exceeded ended successful with failed children, so "Clear →
    only failed" did not run it again. Its failed children run again here, in this task, exactly
    as the shard would have run them (one more redrive generation)."""
    if ctx.redrive_count <= 0:
        return []
    threads = effective_limit(state.max_concurrency, DISTRIBUTED_MAX_CONCURRENCY) if interpreter.may_block(
        state.processor) else 1
    done = []
    for shard in run.shards:
        recorded = shard_state(staging, shard.index) or {}
        if recorded.get("failed_children") and recorded.get("redrive_count", 0) < ctx.redrive_count:
            done.append(map_process_step(interpreter, state, run.map_run_name, shard, staging, ctx,
                                         concurrency=threads, tolerance=run.tolerance, total_items=run.total_items))
    return done


def map_fingerprint(state: Map) -> str:
    """A digest of the Map state as loaded (its processor, reader, writer, tolerance…): what a redrive
    must find unchanged."""
    return hashlib.sha256(repr(state).encode("utf-8")).hexdigest()[:16]


def map_write_step(
    interpreter: Interpreter, state: Map, run: MapRun, staging: Staging, ctx: ExecutionContext,
    report: Callable[[dict[str, Any]], None] | None = None,
) -> Handoff:
    """Tolerance, ResultWriter, OutputConstructor, Retry and Catch of the Map, over the recorded
    children. A Map-level Retry starts a new Map Run, interpreted in this task (docs/airflow.md).
    ``report`` receives the Map Run's summary (``progress.map_run_summary``), also written to
    ``summary.json`` in its staging area, whether the Map Run succeeded or failed."""
    first_attempt = {"done": False}

    def summarise(staged, watched: "_ItemCount", output: Any, error: FlowError | None) -> None:
        if staged is not None:
            counts = (staged.items, staged.failed_items, staged.children, staged.failed_children)
        else:
            counts = (watched.items, watched.failed_items, watched.children_seen, watched.failed_children)
        details = output.get("ResultWriterDetails") if isinstance(output, dict) else None
        url = (f"{interpreter.store_scheme}://{details['Bucket']}/{details['Key']}"
               if isinstance(details, dict) and details.get("Bucket") else None)
        summary = map_run_summary(
            run.map_run_name, state.name, items=counts[0], failed_items=counts[1], children=counts[2],
            failed_children=counts[3], tolerance=run.tolerance,
            results_url=url, error=None if error is None else {"Code": error.code, "Detail": error.detail})
        write_summary(staging, summary)
        if report is not None:
            report(summary)

    def collected(interp, map_state, map_input, run_ctx, retry_count=0):
        if first_attempt["done"]:
            return run_distributed(interp, map_state, map_input, run_ctx, retry_count)
        first_attempt["done"] = True
        if run.error is not None:
            raise FlowError(run.error["Code"], run.error.get("Detail"), state=map_state.name)
        redrive_stragglers(interp, map_state, run, staging, run_ctx)
        layout = result_layout(map_state, run_ctx, run.map_run_name)
        staged = None if layout is None else staged_results(staging, run.shards, layout)
        watched = _ItemCount(iter_results(staging, run.shards))
        try:
            output = map_result(interp, map_state, watched, map_run_name=run.map_run_name,
                                map_input=map_input, ctx=run_ctx, staged=staged)
        except FlowError as err:
            summarise(staged, watched, None, err)
            if err.code not in TOLERANCE_CODES or not map_run_stopped(staging):
                raise
            ran = staged.items if staged is not None else watched.items
            rest = run.total_items - ran
            raise FlowError(err.code, f"{err.detail}; the Map Run stopped early: {rest} of {run.total_items} "
                            f"items were not started", state=err.state) from None
        summarise(staged, watched, output, None)
        return output

    ctx.globals = dict(run.globals)
    step = interpreter.using(distributed_runner=collected).run_state(state, run.raw_input, ctx)
    return Handoff(step.output, step.next, ctx.globals)


TOLERANCE_CODES = (ErrorCodes.TOLERANCE_EXCEEDED,)
"""Errors whose Detail says what an early stop left out (CloudFlow's, as the interpreter words it;
ASL keeps AWS's fixed Cause)."""


class _ItemCount:
    """Children passing by, their items counted (what ran, for an early-stopped Map's Detail and
    the Map Run's summary)."""

    def __init__(self, children: Iterable[Any]):
        self.children = children
        self.items = self.failed_items = self.children_seen = self.failed_children = 0

    def __iter__(self):
        for child in self.children:
            self.items += child.item_count
            self.children_seen += 1
            if not child.succeeded:
                self.failed_items += child.item_count
                self.failed_children += 1
            yield child


def pick_handoff(candidates: Iterable[tuple[str, Handoff | None]], wanted: str) -> Handoff:
    """Among upstream handoffs (expected next-name, handoff or None when that step did not run),
    the one that chose ``wanted``; ``"*"`` accepts any."""
    for expected, handoff in candidates:
        if handoff is not None and (expected == "*" or handoff.next == expected):
            return handoff
    raise FlowError(ErrorCodes.RUNTIME, f"no upstream step handed control to {wanted!r}")
