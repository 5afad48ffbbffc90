"""What each planned step reads and writes in OSS/S3, as far as the definition says it (parse time).

A location is known when its bucket and key/prefix are literals in the definition; a location
computed from the input (an expression, a ``.$``/JSONata value) is *dynamic*: only the run knows it
(``storage/recording.py``). The rules (docs/assets.md):

* a distributed Map's ItemReader task reads its source: CloudFlow ``SourceParameters`` ``Bucket`` +
  ``ObjectName`` (``OSS_OBJECTS``: ``Prefix``), ASL ``Parameters`` ``Bucket`` + ``Key``
  (``s3:listObjectsV2``: ``Prefix``); its ResultWriter task writes the ``Prefix`` of its ResultWriter;
* a Task calling ``OSS:GetObject|HeadObject|ListObjects`` (or ASL ``s3:getObject|headObject|
  listObjectsV2``, also as ``aws-sdk:s3:…``) reads, ``OSS:PutObject`` (``s3:putObject``) writes,
  ``OSS:CopyObject`` reads its source and writes its target;
* a state task covers the states it interprets (an inline Map's or a Parallel's inner states), a
  shard task the Map's processor, a region task every state of the region.

CloudFlow stores are ``oss``, ASL ones ``s3`` (the interpreter's ``store_scheme``). No Airflow import.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from ..model import Literal, Map, ObjectTemplate, Parallel, State, StateGraph, StateMachine, Task
from ..storage.locations import DataLocation
from .plan import MAP_PROCESS, MAP_READ, MAP_WRITE, REGION, STATE, Step

_UNKNOWN = object()

OSS_TASKS: dict[str, tuple[tuple[str, str, str, bool], ...]] = {
    # operation → (direction, bucket field, key field, prefix?)
    "GetObject": (("read", "bucket", "key", False),),
    "HeadObject": (("read", "bucket", "key", False),),
    "ListObjects": (("read", "bucket", "prefix", True),),
    "PutObject": (("write", "bucket", "key", False),),
    "CopyObject": (("read", "sourceBucket|bucket", "sourceKey", False), ("write", "bucket", "key", False)),
}
S3_TASKS: dict[str, tuple[tuple[str, str, str, bool], ...]] = {
    "getObject": (("read", "Bucket", "Key", False),),
    "headObject": (("read", "Bucket", "Key", False),),
    "listObjectsV2": (("read", "Bucket", "Prefix", True),),
    "putObject": (("write", "Bucket", "Key", False),),
}
_S3_RESOURCE_PREFIXES = ("arn:aws:states:::s3:", "arn:aws:states:::aws-sdk:s3:")


@dataclass(frozen=True)
class StepData:
    """The known locations a step reads and writes; ``dynamic_*``: it also touches ones computed at run time."""

    reads: tuple[DataLocation, ...] = ()
    writes: tuple[DataLocation, ...] = ()
    dynamic_reads: bool = False
    dynamic_writes: bool = False

    def __or__(self, other: "StepData") -> "StepData":
        return StepData(_unique(self.reads + other.reads), _unique(self.writes + other.writes),
                        self.dynamic_reads or other.dynamic_reads, self.dynamic_writes or other.dynamic_writes)

    @property
    def empty(self) -> bool:
        return not (self.reads or self.writes or self.dynamic_reads or self.dynamic_writes)


NOTHING = StepData()


def _unique(locations: Iterable[DataLocation]) -> tuple[DataLocation, ...]:
    return tuple(dict.fromkeys(locations))


def _field(template: Any, names: str) -> Any:
    """The literal value of ``names`` (``a|b``: the first present) in a parameters template;
    ``_UNKNOWN`` when it is computed; None when absent."""
    for name in names.split("|"):
        if isinstance(template, Literal):
            if isinstance(template.value, dict) and name in template.value:
                return template.value[name]
            if not isinstance(template.value, dict):
                return _UNKNOWN
            continue
        if isinstance(template, ObjectTemplate):
            for key, value in template.fields:
                if key == name:
                    return value.value if isinstance(value, Literal) else _UNKNOWN
            continue
        return _UNKNOWN  # the whole parameter object is computed
    return None


def _location(scheme: str, direction: str, template: Any, bucket_field: str, key_field: str,
              prefix: bool) -> StepData:
    bucket, key = _field(template, bucket_field), _field(template, key_field)
    if key is None and prefix:
        key = ""
    if isinstance(bucket, str) and bucket and isinstance(key, str) and (key or prefix):
        loc = DataLocation(scheme, bucket, key, prefix)
        return StepData(reads=(loc,)) if direction == "read" else StepData(writes=(loc,))
    if bucket is None and key is None:
        return NOTHING  # an invalid call: the run fails, it touches nothing
    return StepData(dynamic_reads=True) if direction == "read" else StepData(dynamic_writes=True)


def task_data(task: Task, scheme: str) -> StepData:
    """The locations one Task state's OSS/S3 call touches (other Tasks: none)."""
    action = task.action or ""
    if action.startswith("OSS:"):
        rules, scheme = OSS_TASKS.get(action[4:], ()), "oss"
    elif action.startswith(_S3_RESOURCE_PREFIXES):
        rules, scheme = S3_TASKS.get(action.rsplit(":", 1)[1], ()), "s3"
    else:
        return NOTHING
    data = NOTHING
    for direction, bucket_field, key_field, prefix in rules:
        data |= _location(scheme, direction, task.parameters, bucket_field, key_field, prefix)
    return data


def reader_data(state: Map, scheme: str) -> StepData:
    reader = state.item_reader
    if reader is None:
        return NOTHING
    listing = reader.source_type == "OSS_OBJECTS" or (reader.resource or "").endswith(":listObjectsV2")
    key_field = "Prefix" if listing else ("Key" if reader.resource else "ObjectName")
    return _location(scheme, "read", reader.source_parameters, "Bucket", key_field, listing)


def writer_data(state: Map, scheme: str) -> StepData:
    writer = state.result_writer
    if writer is None or (state.asl is not None and not writer.resource):
        return NOTHING  # an ASL ResultWriter without Resource only shapes the output
    return _location(scheme, "write", writer.parameters, "Bucket", "Prefix", True)


def state_data(state: State, scheme: str) -> StepData:
    """Everything one state touches when interpreted in one process, nested states included."""
    if isinstance(state, Task):
        return task_data(state, scheme)
    if isinstance(state, Map):
        return reader_data(state, scheme) | graph_data(state.processor, scheme) | writer_data(state, scheme)
    if isinstance(state, Parallel):
        data = NOTHING
        for branch in state.branches:
            data |= graph_data(branch, scheme)
        return data
    return NOTHING


def graph_data(graph: StateGraph, scheme: str) -> StepData:
    data = NOTHING
    for state in graph.states:
        data |= state_data(state, scheme)
    return data


def step_data(machine: StateMachine, step: Step, scope_graph: StateGraph) -> StepData:
    """What one planned step (one Airflow task) reads and writes."""
    scheme = "s3" if machine.dialect == "asl" else "oss"
    if step.state is None:
        return NOTHING
    state = scope_graph[step.state]
    if step.kind == MAP_READ:
        return reader_data(state, scheme)
    if step.kind == MAP_WRITE:
        return writer_data(state, scheme)
    if step.kind == MAP_PROCESS:
        return graph_data(state.processor, scheme)
    if step.kind == REGION:
        data = NOTHING
        for name in step.region_states:
            data |= state_data(scope_graph[name], scheme)
        return data
    if step.kind == STATE:
        return state_data(state, scheme)
    return NOTHING


__all__ = ["NOTHING", "StepData", "graph_data", "reader_data", "state_data", "step_data",
           "task_data", "writer_data"]
