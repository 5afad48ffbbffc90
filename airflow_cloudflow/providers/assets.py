"""Airflow Assets of a flow (docs/assets.md): what its tasks read (inlets) and write (outlets), the
asset events of locations known only at run time, asset schedules, and the input of a run that
assets triggered.

* Known locations (``planning/datasets.py``) become ``Asset("oss://bucket/key")`` /
  ``Asset("s3://bucket/key")`` inlets and outlets; Airflow records an event for every outlet asset
  when the task succeeds.
* A task that also writes a location computed at run time gets the outlet
  ``AssetAlias("cloudflow/<dag_id>/<task_id>")``; after it succeeded, each location its stores wrote
  (``storage/recording.py``) is added to that alias as an event of ``Asset(<uri>)``, so a DAG
  scheduled on that URI runs.
* A ResultWriter's asset is its ``Prefix`` (``oss://bucket/results``); the event's extra carries the
  ``manifest`` key of the Map Run.
* A run that assets triggered (no conf given) gets the events in its input as
  ``TriggeringAssetEvents``: ``[{"Uri", "Name", "Extra", "SourceDagId", "SourceRunId",
  "SourceTaskId", "Timestamp"}]``, over the sidecar's ``default_input``.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk import Asset, AssetAlias, AssetAll, AssetAny

from ..model import StateGraph, StateMachine
from ..planning.datasets import StepData, step_data
from ..planning.plan import MAP_WRITE, Step
from ..storage import recording
from ..storage.locations import DataLocation
from .asset_schedule import AssetCondition, AssetRef
from .options import DagOptions
from .runtime import execution_input

log = logging.getLogger(__name__)

TRIGGER_KEY = "TriggeringAssetEvents"
OSS_SCHEME = "oss"


def alias_name(dag_id: str, task_id: str) -> str:
    return f"cloudflow/{dag_id}/{task_id}"


def asset(location: DataLocation) -> Asset:
    return Asset(uri=location.uri)


def task_assets(data: StepData, dag_id: str, task_id: str) -> dict[str, list]:
    """The ``inlets``/``outlets`` arguments of one step's operator (empty lists left out)."""
    kwargs: dict[str, list] = {}
    if data.reads:
        kwargs["inlets"] = [asset(loc) for loc in data.reads]
    outlets: list = [asset(loc) for loc in data.writes]
    if data.dynamic_writes:
        outlets.append(AssetAlias(name=alias_name(dag_id, task_id)))
    if outlets:
        kwargs["outlets"] = outlets
    return kwargs


def airflow_schedule(schedule: Any) -> Any:
    """The sidecar's schedule for ``DAG(schedule=...)``: cron strings and presets as they are, an
    asset condition as ``Asset``/``AssetAll``/``AssetAny``."""
    if isinstance(schedule, AssetRef):
        return Asset(uri=schedule.uri)
    if isinstance(schedule, AssetCondition):
        items = [airflow_schedule(item) for item in schedule.items]
        return (AssetAll if schedule.operator == "all" else AssetAny)(*items)
    return schedule


def sanitize_oss_uri(uri):
    """Airflow's asset URI handler for ``oss://`` (registered in ``get_provider_info``): a bucket is required."""
    if not uri.netloc:
        raise ValueError("URI format oss:// must contain a bucket name")
    return uri


def create_oss_asset(*, bucket: str, key: str, extra=None) -> Asset:
    return Asset(uri=DataLocation(OSS_SCHEME, bucket, key).uri, extra=extra)


def convert_oss_asset_to_openlineage(asset_: Asset, lineage_context):
    """``oss://bucket/key`` → OpenLineage dataset ``(namespace oss://bucket, name key)``, as the
    amazon provider does for ``s3://``."""
    from airflow.providers.common.compat.openlineage.facet import Dataset

    bucket, _, key = asset_.uri.removeprefix("oss://").partition("/")
    return Dataset(namespace=f"oss://{bucket}", name=key or "/")


# --------------------------------------------------------------------------- run time


def run_input(options: DagOptions, context) -> Any:
    """The execution input: the run conf over ``default_input``; a run that assets triggered
    without a conf also gets its triggering events under ``TriggeringAssetEvents``."""
    conf = context["dag_run"].conf
    value = execution_input(options, conf)
    if conf or not isinstance(value, dict):
        return value
    events = triggering_events(context)
    return {**value, TRIGGER_KEY: events} if events else value


def triggering_events(context) -> list[dict[str, Any]]:
    """The asset events that triggered this run (each once, oldest first), as JSON."""
    accessor = context.get("triggering_asset_events") if hasattr(context, "get") else None
    if not accessor:
        return []
    seen: dict[tuple, dict[str, Any]] = {}
    for key in accessor:
        for event in accessor[key]:
            stamp = event.timestamp.isoformat() if event.timestamp else None
            ident = (event.asset.uri, event.source_run_id, event.source_task_id, event.source_map_index, stamp)
            seen.setdefault(ident, {
                "Uri": event.asset.uri, "Name": event.asset.name, "Extra": dict(event.extra or {}),
                "SourceDagId": event.source_dag_id, "SourceRunId": event.source_run_id,
                "SourceTaskId": event.source_task_id, "Timestamp": stamp,
            })
    return sorted(seen.values(), key=lambda e: e["Timestamp"] or "")


def written_assets(step: Step, access: recording.AccessLog) -> list[tuple[DataLocation, dict[str, Any]]]:
    """What the step wrote, as assets: a ResultWriter's Map Runs as their ``Prefix``."""
    writes = list(access.writes)
    if step.kind == MAP_WRITE:
        return recording.result_folders(writes)
    return [(loc, {}) for loc in writes]


class DataAccessMixin:
    """Records what a flow task's stores touch (``pre_execute`` → ``post_execute``), then emits the
    asset events of the locations only the run knew. Needs ``machine``, ``step``, ``scope_graph``."""

    machine: StateMachine
    step: Step
    scope_graph: StateGraph

    def data(self) -> StepData:
        cached = self.__dict__.get("_cloudflow_data")
        if cached is None:
            cached = self.__dict__["_cloudflow_data"] = step_data(self.machine, self.step, self.scope_graph)
        return cached

    def pre_execute(self, context):
        self._cloudflow_access = recording.start()

    def post_execute(self, context, result=None):  # Airflow 3.3 passes only the context
        access = getattr(self, "_cloudflow_access", None)
        recording.stop(access)
        if access is None:
            return
        data = self.data()
        static = {loc.uri for loc in data.writes}
        events = context["outlet_events"]
        alias = next((o for o in self.outlets if isinstance(o, AssetAlias)), None)
        for loc, extra in written_assets(self.step, access):
            extra = {"state": self.step.state, **extra}
            if loc.uri in static:
                events[Asset(uri=loc.uri)].extra.update(extra)
            elif alias is not None:
                events[alias].add(Asset(uri=loc.uri), extra=extra)
        if access.dropped:
            log.warning("CloudFlow: %d more objects were touched than the %d recorded for asset events and "
                        "lineage", access.dropped, recording.MAX_LOCATIONS)


__all__ = ["DataAccessMixin", "TRIGGER_KEY", "airflow_schedule", "alias_name", "run_input", "task_assets",
           "triggering_events"]
