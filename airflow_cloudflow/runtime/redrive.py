"""Redrive outside Airflow: run a flow again, and let its distributed Map continue an earlier Map Run
from that Map Run's ResultWriter output (``airflow-cloudflow run … --redrive MANIFEST``).

Step Functions' redrive of a Map Run "re-runs only its failed, aborted or timed-out children and keeps
every success". Here: the first distributed Map with a ResultWriter that the execution enters takes
the earlier Map Run's name (so its results are rewritten in place, manifest last), reads the same
children again from its item source, and for each child

* with a ``Succeeded`` record in the earlier results: keeps that record, and does not run it;
* otherwise (failed, or never started because the Map Run stopped early): runs it again, its
  record's redrive count one more than before (ASL records carry it as ``RedriveCount``).

The execution's own ``$$.Execution.RedriveCount`` is one more than the highest count found. The
earlier results must come from the same definition and input (children are matched by index), as
Step Functions redrives with the original definition; docs/lifecycle.md says what is checked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from ..exceptions import FlowError, StoreError
from ..model import Map
from .concurrency import effective_limit, run_bounded
from .context import ExecutionContext
from .records import SUCCEEDED, ChildExecution

if TYPE_CHECKING:  # pragma: no cover
    from ..storage.base import ObjectStore
    from .interpreter import Interpreter

REDRIVE_FAILED = "CloudFlow.RedriveFailed"
"""The earlier Map Run's results cannot be read, or do not belong to this Map."""


@dataclass(frozen=True)
class EarlierMapRun:
    """What an earlier Map Run left: its name and, per child index, its record (as a child execution)."""

    manifest_key: str
    map_run_name: str
    records: dict[int, ChildExecution]

    @property
    def redrive_count(self) -> int:
        """The execution's redrive count for this redrive: one more than any record's."""
        return 1 + max((r.redrive_count for r in self.records.values()), default=0)

    @classmethod
    def read(cls, store: "ObjectStore", bucket: str, manifest_key: str) -> "EarlierMapRun":
        """Read ``manifest.json`` (CloudFlow's or AWS's layout) and every record file it lists."""
        try:
            manifest = _read_json(store, bucket, manifest_key)
            if "MapRunArn" in manifest:  # AWS: the Map Run's uuid is the last segment of its ARN
                name = manifest["MapRunArn"].rsplit(":", 1)[-1].replace("-", "")
                entry_key, parse = "Key", _asl_record
            else:
                name, entry_key, parse = manifest["MapRunName"], "ObjectName", _cloudflow_record
            records: dict[int, ChildExecution] = {}
            for entries in manifest["ResultFiles"].values():
                for entry in entries:
                    for raw in _read_json(store, bucket, entry[entry_key]):
                        record = parse(raw)
                        records[record.index] = record
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise FlowError(REDRIVE_FAILED, f"{manifest_key} is not a ResultWriter manifest: {exc}") from None
        except StoreError as exc:
            raise FlowError(REDRIVE_FAILED, f"cannot read the earlier Map Run's results: {exc}") from None
        return cls(manifest_key, name, records)


def _read_json(store: "ObjectStore", bucket: str, key: str) -> Any:
    stream = store.open(bucket, key)
    try:
        return json.loads(stream.read())
    finally:
        stream.close()


def _index_of(name: str) -> int:
    """Child names end in their index (``child-<map run>-<index>``)."""
    return int(name.rsplit("-", 1)[-1])


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text and not text.startswith("0001-") else None


def _cloudflow_record(raw: dict) -> ChildExecution:
    succeeded = raw["Status"] == "Succeeded"
    return ChildExecution.make(
        raw["ExecutionName"], _index_of(raw["ExecutionName"]), raw["Status"], json.loads(raw["Input"]),
        json.loads(raw["Output"]) if succeeded else None, None if succeeded else "Failed", None,
        _time(raw.get("StartedTime")), _time(raw.get("StoppedTime")),
    )


def _asl_record(raw: dict) -> ChildExecution:
    succeeded = raw["Status"] == "SUCCEEDED"
    record = ChildExecution.make(
        raw["Name"], _index_of(raw["Name"]), SUCCEEDED if succeeded else "Failed", json.loads(raw["Input"]),
        json.loads(raw["Output"]) if succeeded else None, raw.get("Error"), raw.get("Cause"),
        _time(raw.get("StartDate")), _time(raw.get("StopDate")),
    )
    return replace(record, redrive_count=int(raw.get("RedriveCount") or 0))


def redrive_runner(earlier: EarlierMapRun) -> Callable[..., Any]:
    """A distributed-Map runner (``Interpreter.using``) that redrives ``earlier`` in the first
    distributed Map with a ResultWriter, and runs any other Map as usual."""
    from .fanout import DISTRIBUTED_MAX_CONCURRENCY, iter_child_inputs, map_result, run_distributed
    from .children import run_child

    used = {"done": False}

    def runner(interp: "Interpreter", map_state: Map, map_input: Any, ctx: ExecutionContext, retry_count: int = 0):
        if used["done"] or not _writes_results(map_state):
            return run_distributed(interp, map_state, map_input, ctx, retry_count)
        used["done"] = True
        name = earlier.map_run_name

        def run(child) -> ChildExecution:
            kept = earlier.records.get(child.index)
            if kept is not None and kept.succeeded:
                return replace(kept, first_item=child.first_item, item_count=child.item_count)
            fresh = run_child(interp, map_state, child, map_run_name=name, ctx=ctx)
            return replace(fresh, redrive_count=(kept.redrive_count + 1) if kept is not None else 1)

        limit = effective_limit(_max_concurrency(map_state, map_input, ctx), DISTRIBUTED_MAX_CONCURRENCY)
        inputs = iter_child_inputs(interp, map_state, map_input, ctx)
        children = run_bounded(run, inputs, limit=limit, threaded=interp.may_block(map_state.processor))
        return map_result(interp, map_state, children, map_run_name=name, map_input=map_input, ctx=ctx)

    return runner


def _writes_results(state: Map) -> bool:
    writer = state.result_writer
    return writer is not None and (state.asl is None or bool(writer.resource))


def _max_concurrency(state: Map, map_input: Any, ctx: ExecutionContext) -> int | None:
    if state.asl is None:
        return state.max_concurrency
    from .asl.map import MapView

    return MapView(state, map_input, ctx).limits()[0]
