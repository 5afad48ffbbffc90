"""The Airflow side of deferred Task calls (``planning/deferred.py`` holds the logic): how a
``StateOperator`` waits for a child DAG run or a callback, and reads the outcome back.

* **Sub-flow**: ``DagRunTriggerException`` (what ``TriggerDagRunOperator`` raises): the task
  supervisor creates the child's DAG run (dag_id of the flow found by name, run id = the execution
  name, conf = the child's input), then the task defers on ``DagStateTrigger`` and resumes in
  ``execute_complete``. ``RequestComplete`` (ASL without ``.sync``) waits only until the run exists
  (any state); waiting Tasks until it succeeds or fails. The child's output is its ``finish`` task's
  ``return_value`` XCom, its error the ``cloudflow_error`` XCom (``ti.xcom_pull(dag_id=…,
  run_id=…)`` reads another DAG run's XCom in Airflow 3.3).
* **Custom callback**: ``TaskDeferred`` on ``CallbackTrigger``, which polls the token record in the
  staging area's ``callbacks/`` folder from the triggerer.
"""

from __future__ import annotations

import logging
from typing import Any

from ..runtime.ports import TaskCall
from ..integrations.subflow import ChildOutcome, FlowFinder
from ..model import State
from ..planning.deferred import (
    SUBFLOW, DeferredCalls, DeferringIntegrations, PendingCall, callback_outcome, child_outcome,
    run_deferrable_step,
)
from ..planning.plan import ChildLocator
from ..planning.steps import Handoff
from .options import DagOptions

log = logging.getLogger(__name__)

DEFERRED_KEY = "cloudflow_deferred"
"""XCom of a deferring state task: its ``DeferredCalls`` (kept across deferrals of one try)."""
CHILD_POLL_SECONDS = 5
"""How often the triggerer looks at a child DAG run's state."""


def staging_url(options: DagOptions) -> str:
    """The staging location whose ``callbacks/`` folder holds task tokens (sidecar, else ``[cloudflow]``)."""
    from .config import settings

    return options.staging_url or settings().staging_url


def token_store(options: DagOptions):
    from .integrations import _token_store

    return _token_store(options)


def _announce(options: DagOptions):
    def announce(token: str, call: TaskCall) -> None:
        log.info("CloudFlow: state %r waits for a callback (task deferred); complete it with:\n"
                 "  airflow-cloudflow callback succeed %s --output '{}' --at %s\n"
                 "  airflow-cloudflow callback fail %s --error CODE --cause TEXT --at %s",
                 call.state_name, token, staging_url(options), token, staging_url(options))

    return announce


_FINDERS: dict[tuple, FlowFinder] = {}


def _finder(folders: tuple) -> FlowFinder:
    """One flow finder per set of folders for the process: its name → file cache outlives a call."""
    finder = _FINDERS.get(folders)
    if finder is None:
        finder = _FINDERS[folders] = FlowFinder(list(folders))
    return finder


def run_or_wait(interpreter, options: DagOptions, state: State, given: Handoff, ctx, records: DeferredCalls) -> Handoff:
    """The state over ``DeferringIntegrations``; raises ``DeferCall`` when it must wait."""
    from .integrations import _flow_folders

    integrations = DeferringIntegrations(
        interpreter.integrations, records,
        locate=ChildLocator(_finder(tuple(_flow_folders(options)))),
        tokens=lambda: token_store(options),
        announce=_announce(options),
        subflow_runs=options.subflows == "dag_run",
    )
    return run_deferrable_step(interpreter, state, given, ctx, integrations)


def wait_for(options: DagOptions, call: PendingCall) -> BaseException:
    """The exception that makes the running task wait for ``call`` with its worker slot freed."""
    if call.kind == SUBFLOW:
        from airflow.sdk.exceptions import DagRunTriggerException

        allowed, failed = call.run_states
        log.info("CloudFlow: state %r starts the sub-flow %r as DAG run %s/%s%s", call.state,
                 call.request.flow_name if call.request else None, call.dag_id, call.run_id,
                 " and waits for it" if call.waits_for_child else "")
        return DagRunTriggerException(
            trigger_dag_id=call.dag_id, dag_run_id=call.run_id, conf=call.conf, logical_date=None,
            reset_dag_run=False, skip_when_already_exists=False, wait_for_completion=True,
            allowed_states=list(allowed), failed_states=list(failed), poke_interval=CHILD_POLL_SECONDS,
            deferrable=True, note=f"CloudFlow sub-flow started by state {call.state!r}",
        )
    from airflow.sdk.exceptions import TaskDeferred

    from .triggers import CallbackTrigger

    trigger = CallbackTrigger(
        token=call.token, staging_url=staging_url(options), oss_conn_id=options.oss_conn_id,
        aws_conn_id=options.aws_conn_id, local_store=options.local_store, max_seconds=call.max_seconds,
        heartbeat_seconds=call.heartbeat_seconds,
    )
    return TaskDeferred(trigger=trigger, method_name="execute_complete")


def _state_name(value: Any) -> str | None:
    return None if value is None else str(getattr(value, "value", value))


def outcome_of(context, options: DagOptions, call: PendingCall) -> ChildOutcome:
    """How the waited-for call ended: the child DAG run's state and ``finish`` XComs, or the token record."""
    if call.kind != SUBFLOW:
        tokens = token_store(options)
        return callback_outcome(lambda: tokens.outcome(call.token), call,
                                lambda: tokens.heartbeat_missed(call.token, call.heartbeat_seconds))
    from .xcom import ERROR_KEY

    ti = context["ti"]
    run_state = _state_name(ti.get_dagrun_state(dag_id=call.dag_id, run_id=call.run_id))
    if not call.waits_for_child:
        return ChildOutcome(True)
    where = {"dag_id": call.dag_id, "run_id": call.run_id, "task_ids": call.finish_task, "map_indexes": -1}
    output = ti.xcom_pull(key="return_value", **where) if run_state == "success" else None
    error = None if run_state == "success" else ti.xcom_pull(key=ERROR_KEY, **where)
    return child_outcome(run_state, output, error, dag_id=call.dag_id or "", run_id=call.run_id or "")
