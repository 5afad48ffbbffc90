"""Thin operators: each moves a ``Handoff`` in and out of XCom and calls ``planning.steps``.

A step's payload (``{"output", "next", "globals"}``) is pushed as its XCom before it skips the
branches it did not take; a failure pushes ``cloudflow_error`` (``{"Code", "Detail", "State"}``) and
fails the task without Airflow retries (the flow's Retry rules already ran in-process).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.sdk import BaseOperator, SkipMixin
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from ..exceptions import ErrorCodes, FlowError
from ..model import StateMachine, Wait
from ..planning.deferred import DeferCall, DeferredCalls, deferrable
from ..planning.plan import ANY, Step
from ..planning.shards import RedriveRefused, ShardRef, ShardSummary
from ..planning.sizing import threads_per_shard
from ..runtime.fanout import DISTRIBUTED_MAX_CONCURRENCY
from ..runtime.errors import matches
from ..planning.steps import (
    Handoff,
    MapRun,
    map_process_step,
    map_read_step,
    map_write_step,
    new_context,
    parallel_join_step,
    parallel_start_step,
    pick_handoff,
    run_region_step,
    run_state_step,
    wait_state_finish,
    wait_state_input,
)
from .assets import run_input
from .lineage import LineageMixin
from .options import DagOptions
from .retry import RetryableFlowFailure
from .shard_slots import shard_planner, warn_slow_lost_worker_detection
from .runtime import (
    StagingNotShared, build_interpreter, check_staging_shared, execution_input, execution_name,
)
from .staging import staging_at, staging_location
from .xcom import ERROR_KEY, MAP_VIEW_KEY
from .ui.links import MapRunLink, ResultsLink

log = logging.getLogger(__name__)

MAP_RUN_KEY = "cloudflow_map_run"
"""The Map Run record the ResultWriter task reads (the Map's input, globals, shards, reader error)."""
MAP_SHARDS_KEY = "cloudflow_map_shards"
"""What a shard instance needs besides its shard reference: the Map Run's name and staging prefix."""
MAP_SUMMARY_KEY = "cloudflow_map_run_summary"
"""The ResultWriter task's summary of the Map Run (``planning.progress.map_run_summary``)."""


class CloudFlowStepOperator(LineageMixin, BaseOperator, SkipMixin):
    """Base: one planned step of a flow. Subclasses implement ``run_step``. Assets and lineage of
    what it reads and writes: ``providers/assets.py``, ``providers/lineage.py``."""

    ui_color = "#e6f0ff"

    def __init__(self, *, machine: StateMachine, options: DagOptions, step: Step, scope_graph=None, **kwargs):
        super().__init__(**kwargs)
        self.machine = machine
        self.options = options
        self.step = step
        self.scope_graph = scope_graph if scope_graph is not None else machine.graph

    # ------------------------------------------------------------------ helpers

    def _interpreter(self):
        interp = getattr(self, "_interp", None)
        if interp is None:
            from airflow.sdk import get_current_context

            run_id = get_current_context()["dag_run"].run_id
            interp = self._interp = build_interpreter(self.machine, self.options, run_id)
        return interp

    def _context(self, context, globals_: dict):
        run = context["dag_run"]
        ctx = new_context(
            self._interpreter(), execution_name(run.run_id), run_input(self.options, context), globals_,
            started=getattr(run, "start_date", None),
        )
        ctx.redrive_count = getattr(run, "clear_number", 0) or 0  # "Clear" of a failed run = a redrive
        return ctx

    def _given(self, context) -> Handoff:
        """The handoff from whichever upstream step chose this one (the run conf at the start)."""
        ti = context["ti"]
        if not self.step.inputs:
            return Handoff(run_input(self.options, context), self.step.state, {})
        candidates = []
        for task_id, expected in self.step.inputs:
            data = ti.xcom_pull(task_ids=task_id, key="return_value")
            candidates.append((expected, Handoff.from_json(data) if isinstance(data, dict) else None))
        return pick_handoff(candidates, self.step.state or ANY)

    def _hand_on(self, context, handoff: Handoff) -> dict[str, Any]:
        """Push the handoff, then skip every downstream step the flow does not go to."""
        payload = handoff.to_json()
        ti = context["ti"]
        ti.xcom_push(key="return_value", value=payload)
        downstream = set(self.downstream_task_ids)
        if len(downstream) > 1:
            branch_targets = set(self.step.successors.values())
            follow = {self.step.successors[handoff.next]} if handoff.next in self.step.successors else (
                downstream - branch_targets
            )
            log.info("CloudFlow: %s → %s", self.step.state, handoff.next or "(end of scope)")
            self.skip_all_except(ti, follow)
        return payload

    def _fail(self, context, err: FlowError):
        error = {"Code": err.code, "Detail": err.detail, "State": err.state or self.step.state}
        context["ti"].xcom_push(key=ERROR_KEY, value=error)
        log.error("CloudFlow: state %r failed: %s: %s", error["State"], err.code, err.detail)
        # a failure the flow defines (a Fail state, an exceeded tolerance) is no provider bug: the
        # Code/Detail line says it all, so the FlowError's traceback is not chained under it
        raise AirflowFailException(f"{err.code}: {err.detail}" if err.detail else err.code) from None

    def execute(self, context):
        try:
            handoff = self.run_step(context)
        except FlowError as err:
            self._fail(context, err)
        if handoff is None:
            return None
        return self._hand_on(context, handoff)

    def run_step(self, context) -> Handoff | None:  # pragma: no cover - abstract
        raise NotImplementedError


class StateOperator(CloudFlowStepOperator):
    """A top-level (or branch-level) state, with its Retry and Catch, interpreted in-process."""

    def run_step(self, context) -> Handoff:
        given = self._given(context)
        state = self.scope_graph[self.step.state]
        ctx = self._context(context, given.globals)
        if isinstance(state, Wait):
            value, seconds = wait_state_input(self._interpreter(), state, given, ctx)
            if seconds > 0:
                from airflow.providers.standard.triggers.temporal import DateTimeTrigger

                moment = datetime.now(timezone.utc) + timedelta(seconds=seconds)
                self.defer(trigger=DateTimeTrigger(moment=moment), method_name="resume_after_wait")
        if deferrable(state, subflow_runs=self.options.subflows == "dag_run"):
            return self._run_deferrable(context, state, given, ctx, DeferredCalls())
        if self.step.airflow_retry is not None:
            return self._run_attempt(context, state, given, ctx)
        return run_state_step(self._interpreter(), state, given, ctx)

    def _run_attempt(self, context, state, given: Handoff, ctx) -> Handoff:
        """One try of a Task whose single Retry rule Airflow carries out (``providers/retry.py``):
        ``$Context.Current.RetryCount`` is the try number minus one; an error the rule matches
        fails this try with ``RetryableFlowFailure`` and the retry policy schedules the next."""
        ti = context["ti"]
        try:
            step = self._interpreter().run_attempt(state, given.output, ctx, retry_count=ti.try_number - 1)
        except FlowError as err:
            if err.code == ErrorCodes.TIMEOUT or not matches(self.step.airflow_retry.errors, err.code):
                raise
            ti.xcom_push(key=ERROR_KEY, value={"Code": err.code, "Detail": err.detail, "State": state.name})
            log.warning("CloudFlow: state %r try %d failed with %s (Retry rule matches)", state.name,
                        ti.try_number, err.code)
            raise RetryableFlowFailure(err.code, err.detail) from None
        return Handoff(step.output, step.next, ctx.globals)

    def _run_deferrable(self, context, state, given, ctx, records: DeferredCalls) -> Handoff:
        """A sub-flow or custom-callback Task: run it, or record the call it waits for and wait
        outside the worker slot (``providers/deferral.py``; docs/integrations.md)."""
        from .deferral import DEFERRED_KEY, run_or_wait

        try:
            return run_or_wait(self._interpreter(), self.options, state, given, ctx, records)
        except DeferCall as pending:
            context["ti"].xcom_push(key=DEFERRED_KEY, value=records.started(pending.call).to_json())
            from .deferral import wait_for

            raise wait_for(self.options, pending.call) from None

    def execute_complete(self, context, event=None, **_):
        """Back from a deferred call (the child DAG run ended or exists; the callback came or timed
        out): record its outcome, then run the state again from its raw input (recorded calls are
        answered from the record), so its constructors, Retry and Catch apply."""
        from .deferral import DEFERRED_KEY, outcome_of

        given = self._given(context)
        state = self.scope_graph[self.step.state]
        ctx = self._context(context, given.globals)
        try:
            records = DeferredCalls.from_json(context["ti"].xcom_pull(task_ids=self.task_id, key=DEFERRED_KEY))
            waiting = records.waiting
            if waiting is None:
                raise FlowError(ErrorCodes.RUNTIME, f"state {state.name!r} resumed without a deferred call")
            handoff = self._run_deferrable(context, state, given, ctx,
                                           records.answered(outcome_of(context, self.options, waiting)))
        except FlowError as err:
            self._fail(context, err)
        return self._hand_on(context, handoff)

    def resume_after_wait(self, context, event=None, **_):
        """Back from the deferrable wait (the worker slot was free meanwhile): finish the state.

        The input is pulled again from upstream rather than carried in the deferral, so a resumed
        task never depends on what the trigger hands back.
        """
        given = self._given(context)
        state = self.scope_graph[self.step.state]
        ctx = self._context(context, given.globals)
        try:
            value, _seconds = wait_state_input(self._interpreter(), state, given, ctx)
            handoff = wait_state_finish(self._interpreter(), state, value, ctx)
        except FlowError as err:
            self._fail(context, err)
        return self._hand_on(context, handoff)


class RegionOperator(CloudFlowStepOperator):
    """A cyclic region (a Choice looping back), interpreted until control leaves it."""

    def run_step(self, context) -> Handoff:
        given = self._given(context)
        entry = given.next if given.next in self.step.region_states else self.step.state
        ctx = self._context(context, given.globals)
        return run_region_step(self._interpreter(), self.scope_graph, self.step.region_states, entry, given, ctx)


class ParallelStartOperator(CloudFlowStepOperator):
    """Evaluates the Parallel's InputConstructor; every branch starts from this output."""

    def run_step(self, context) -> Handoff:
        given = self._given(context)
        ctx = self._context(context, given.globals)
        return parallel_start_step(self._interpreter(), self.scope_graph[self.step.state], given, ctx)


class ParallelJoinOperator(CloudFlowStepOperator):
    """Assembles ``{"Branch0": …}`` from each branch's terminal step and applies the constructors."""

    def run_step(self, context) -> Handoff:
        ti = context["ti"]
        start_id = self.step.inputs[0][0]
        start = ti.xcom_pull(task_ids=start_id, key="return_value")
        if not isinstance(start, dict):
            raise AirflowSkipException("the Parallel state was not entered")
        start_handoff = Handoff.from_json(start)
        results = []
        for i, terminals in enumerate(self.step.branch_terminals):
            found = None
            for task_id in terminals:
                data = ti.xcom_pull(task_ids=task_id, key="return_value")
                if isinstance(data, dict) and data.get("next") is None:
                    found = Handoff.from_json(data)
            if found is None:
                raise FlowError(ErrorCodes.RUNTIME, f"branch {i} of {self.step.state!r} did not finish")
            results.append(found)
        ctx = self._context(context, start_handoff.globals)
        return parallel_join_step(self._interpreter(), self.scope_graph[self.step.state], start_handoff, results, ctx)


def _map_run_prefix(context, step: Step) -> str:
    return f"{context['dag'].dag_id}/{execution_name(context['dag_run'].run_id)}/{step.task_id}"


class MapReaderOperator(CloudFlowStepOperator):
    """Reads, constructs and batches the Map's items into shards; returns only shard references."""

    ui_color = "#fff3e0"
    operator_extra_links = (MapRunLink(),)

    def execute(self, context):
        try:
            given = self._given(context)
        except FlowError as err:
            self._fail(context, err)
        state = self.scope_graph[self.step.state]
        ctx = self._context(context, given.globals)
        prefix = _map_run_prefix(context, self.step)
        try:
            check_staging_shared(self.options)
            warn_slow_lost_worker_detection()
            plan_for, limits = shard_planner(state, self.options)
            run = map_read_step(
                self._interpreter(), state, given, ctx,
                lambda name: staging_at(self.options, f"{prefix}/{name}"), plan_for=plan_for,
            )
        except StagingNotShared as exc:
            self._fail(context, FlowError(ErrorCodes.RUNTIME, str(exc), state=self.step.state))
        except Exception as exc:  # staging unreachable…: the ResultWriter task must fail, not skip
            self._fail(context, FlowError(ErrorCodes.TASK_FAILED, f"the ItemReader task failed: {exc}",
                                          state=self.step.state))
        threads = threads_per_shard(state.max_concurrency, DISTRIBUTED_MAX_CONCURRENCY, len(run.shards))
        ti = context["ti"]
        ti.xcom_push(key=MAP_RUN_KEY, value=run.to_json())
        ti.xcom_push(key=MAP_VIEW_KEY, value={"state": self.step.state, "map_run_name": run.map_run_name,
                                              **staging_location(self.options, run.staging_prefix)})
        ti.xcom_push(key=MAP_SHARDS_KEY, value={"map_run_name": run.map_run_name, "staging_prefix": run.staging_prefix,
                                                "threads_per_shard": threads, "total_items": run.total_items,
                                                "tolerance": None if run.tolerance is None else list(run.tolerance)})
        items = sum(s.item_count for s in run.shards)
        label = getattr(getattr(state, "asl_map", None), "label", None)
        log.info("CloudFlow Map %r: MapRun %s%s, %d items in %d shards (%s; parallel limits %s)%s", self.step.state,
                 run.map_run_name, f" (Label {label})" if label else "", items, len(run.shards), run.plan or "-",
                 ", ".join(f"{k} {v}" for k, v in limits.items()), f"; reader error {run.error}" if run.error else "")
        return [s.to_json() for s in run.shards]


class MapShardOperator(CloudFlowStepOperator):
    """One shard of child executions (mapped); idempotent on retry."""

    ui_color = "#fff3e0"
    operator_extra_links = (MapRunLink(),)

    def __init__(self, *, shard: dict | None = None, in_shard_concurrency: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.shard = shard
        self.in_shard_concurrency = in_shard_concurrency

    def execute(self, context):
        ti = context["ti"]
        where = ti.xcom_pull(task_ids=self.step.inputs[0][0], key=MAP_SHARDS_KEY)
        map_run_name, prefix = where["map_run_name"], where["staging_prefix"]
        shard = ShardRef.from_json(self.shard)
        context["cloudflow_shard_label"] = shard.label
        staging = staging_at(self.options, prefix, absolute=True)
        ctx = self._context(context, {})
        interp = self._interpreter()
        state = self.scope_graph[self.step.state]
        threads = where.get("threads_per_shard") or self.in_shard_concurrency
        concurrency = threads if interp.may_block(state.processor) else 1
        tolerance = where.get("tolerance")
        try:
            summary: ShardSummary = map_process_step(
                interp, state, map_run_name, shard, staging, ctx, concurrency=concurrency,
                tolerance=None if tolerance is None else (tolerance[0], tolerance[1]),
                total_items=where.get("total_items") or 0)
        except RedriveRefused as refused:
            log.error("CloudFlow MapRun %s shard %d: redrive refused: %s", map_run_name, shard.index, refused)
            raise AirflowFailException(f"redrive refused: {refused}") from None
        redrive = f" (redrive {summary.generation})" if summary.generation else ""
        stopped = f", {summary.not_run} not started (the Map Run was stopped)" if summary.not_run else ""
        log.info("CloudFlow MapRun %s shard %d (%s)%s: %d succeeded, %d failed%s, %d already recorded",
                 map_run_name, shard.index, shard.label, redrive, summary.succeeded, summary.failed, stopped,
                 summary.reused)
        result = {"shard": summary.index, "succeeded": summary.succeeded, "failed": summary.failed,
                  "reused": summary.reused, "not_run": summary.not_run, "redrive": summary.generation}
        if summary.not_run or (summary.failed and summary.map_run_failing):
            # the Map Run failed (its tolerance exceeded): red in the grid, and "Clear → only failed"
            # redrives just the failed and unstarted children of this shard
            context["ti"].xcom_push(key="return_value", value=result)
            raise AirflowFailException(
                f"{summary.failed} of {shard.child_count} child executions failed{stopped}; the Map Run's "
                f"tolerance is exceeded. Clear the failed tasks (only failed) to redrive them.")
        return result


class MapWriterOperator(CloudFlowStepOperator):
    """Tolerance, ResultWriter and the Map's own Retry/Catch over every recorded child."""

    ui_color = "#fff3e0"
    operator_extra_links = (MapRunLink(), ResultsLink())

    def run_step(self, context) -> Handoff:
        ti = context["ti"]
        reader_id = self.step.inputs[0][0]
        data = ti.xcom_pull(task_ids=reader_id, key=MAP_RUN_KEY)
        if not isinstance(data, dict):
            if ti.xcom_pull(task_ids=reader_id, key=ERROR_KEY):
                raise AirflowFailException("the Map's ItemReader step failed")
            raise AirflowSkipException("the Map state was not entered")
        run = MapRun.from_json(data)
        staging = staging_at(self.options, run.staging_prefix, absolute=True)
        ctx = self._context(context, run.globals)

        def report(summary: dict[str, Any]) -> None:
            ti.xcom_push(key=MAP_SUMMARY_KEY, value=summary)
            log.info("CloudFlow %s", summary["line"])

        handoff = map_write_step(self._interpreter(), self.scope_graph[self.step.state], run, staging, ctx,
                                 report=report)
        log.info("CloudFlow Map %r: MapRun %s finished → %s", self.step.state, run.map_run_name,
                 handoff.next or "(end of scope)")
        return handoff


class FinishOperator(BaseOperator):
    """The only leaf: returns the execution output, or fails the DAG run with the flow's error."""

    ui_color = "#e8f5e9"

    def __init__(self, *, terminals: tuple[str, ...], all_steps: tuple[str, ...], **kwargs):
        super().__init__(**kwargs)
        self.terminals = terminals
        self.all_steps = all_steps

    def execute(self, context):
        ti = context["ti"]
        for task_id in self.all_steps:
            error = ti.xcom_pull(task_ids=task_id, key=ERROR_KEY)
            if isinstance(error, dict):
                log.error("CloudFlow execution failed in state %r: Code=%s Detail=%s",
                          error.get("State"), error.get("Code"), error.get("Detail"))
                context["ti"].xcom_push(key=ERROR_KEY, value=error)
                raise AirflowFailException(f"{error.get('Code')}: {error.get('Detail')}")
        for task_id in self.terminals:
            data = ti.xcom_pull(task_ids=task_id, key="return_value")
            if isinstance(data, dict) and data.get("next") is None:
                log.info("CloudFlow execution succeeded")
                return data.get("output")
        error = {"Code": ErrorCodes.TASK_FAILED, "Detail": "an Airflow task of this flow failed before finishing",
                 "State": None}
        context["ti"].xcom_push(key=ERROR_KEY, value=error)
        raise AirflowFailException(error["Detail"])
