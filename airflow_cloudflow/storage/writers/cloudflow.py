"""CloudFlow ``ResultWriter``: ``SUCCEED_n.json`` / ``FAILED_n.json`` and then ``manifest.json``
under ``<Prefix>/<MapRunName>/`` (seed: "example-prefix/map-run-name/manifest.json").

Records (seed): ``ExecutionName, FlowName, Input, Output, Status, StartedTime, StoppedTime``; Input and
Output are JSON texts ("compact with keys sorted", Go escaping: see ``gojson``); "A failed child's
``Output`` is ``{"ErrorCode":"<Fail Code>"}``". Decisions (docs/storage.md):

* files hold whole records and are cut before a record would push them past ``max_file_bytes``
  (5 MiB); a file always holds at least one record;
* a status with no records gets no file and an empty list in the manifest;
* times are RFC 3339 UTC with seconds (Go's ``time.RFC3339``); a missing time is Go's zero time;
* ``manifest.json`` is written last, so its presence means the run's files are complete; rewriting a
  map run yields the same keys and bytes.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator

from ...exceptions import ErrorCodes, FlowError
from ...jsonvalues import utf8
from ...runtime.records import ChildExecution
from ..base import ObjectStore
from ..urls import UnsafeKey, join_key, safe_bucket, safe_key
from .files import ObjectPutter, ResultLayout, StagedResults, publish_series, write_series
from .gojson import go_json

DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024
GO_ZERO_TIME = "0001-01-01T00:00:00Z"
_INDENT = "    "


def rfc3339(moment: datetime | None) -> str:
    """``2024-01-01T01:01:01Z`` (UTC, whole seconds); naive datetimes are taken as UTC."""
    if moment is None:
        return GO_ZERO_TIME
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    elif moment.utcoffset():
        moment = moment.astimezone(timezone.utc)
    return moment.isoformat(timespec="seconds")[:19] + "Z"


def child_record(child: ChildExecution, flow_name: str) -> dict[str, str]:
    """One record, keys in the seed's order."""
    output = child.output if child.succeeded else {"ErrorCode": child.error_code or ""}
    return {
        "ExecutionName": child.name,
        "FlowName": flow_name,
        "Input": go_json(child.input),
        "Output": go_json(output),
        "Status": "Succeeded" if child.succeeded else "Failed",
        "StartedTime": rfc3339(child.started),
        "StoppedTime": rfc3339(child.stopped),
    }


_encode_value = json.JSONEncoder(ensure_ascii=False).encode


def record_bytes(record: dict[str, str]) -> bytes:
    """A record as it appears inside the file's array (4-space indent, like the seed).

    Byte-for-byte what ``json.dumps(record, ensure_ascii=False, indent=4)`` indented by one level
    gives, built field by field: ``indent=`` would drop to the pure-Python encoder, which made this
    the slowest step of a 100,000-item Map. A lone surrogate (from a ``"\\ud800"`` escape in the
    data) is written as U+FFFD, as Go does.
    """
    inner = _INDENT + "    "
    fields = ",\n".join(f"{inner}{_encode_value(key)}: {_encode_value(value)}" for key, value in record.items())
    return utf8(f"{_INDENT}{{\n{fields}\n{_INDENT}}}")


def record_failure(code: str, child: ChildExecution, exc: Exception) -> FlowError:
    """A child whose input or output cannot be written as JSON (``NaN``, a non-JSON value)."""
    return FlowError(code, f"cannot write the record of child execution {child.name!r}: {type(exc).__name__}: {exc}")


def result_prefix(prefix: str, map_run_name: str) -> str:
    """``"example-prefix/"`` and ``"example-prefix"`` both give ``example-prefix/<run>``; ``""`` gives ``<run>``."""
    return join_key(prefix or "", map_run_name)


def layout(flow_name: str) -> ResultLayout:
    """The CloudFlow layout: ``SUCCEED`` and ``FAILED`` series, ``ObjectName`` entries."""

    def render(child: ChildExecution) -> tuple[str, bytes]:
        try:
            record = record_bytes(child_record(child, flow_name))
        except (ValueError, TypeError, RecursionError) as exc:
            raise record_failure(ErrorCodes.RESULT_WRITER_FAILED, child, exc) from None
        return ("SUCCEED" if child.succeeded else "FAILED"), record

    return ResultLayout(("SUCCEED", "FAILED"), "ObjectName", ErrorCodes.RESULT_WRITER_FAILED, render)


def write_results(
    store: ObjectStore,
    *,
    bucket: str,
    prefix: str,
    map_run_name: str,
    flow_name: str,
    children: Iterable[ChildExecution] = (),
    staged: StagedResults | None = None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> dict:
    """Write the record files then ``manifest.json``; return the manifest dict.

    ``children`` are streamed: a list/tuple is sorted by index, any other iterable must already come
    in ascending index order (``ValueError`` otherwise). ``staged``: the records were rendered by
    the shards already; their files are copied into place instead.
    """
    try:
        safe_bucket(bucket)
        if not isinstance(prefix, str) or not isinstance(map_run_name, str):
            raise UnsafeKey("Prefix and the map run name must be strings")
        if not map_run_name or "/" in map_run_name:
            raise UnsafeKey(f"invalid map run name {map_run_name!r}")
        safe_key(prefix, allow_empty=True)
        base = result_prefix(prefix, map_run_name)
        safe_key(base)
    except UnsafeKey as exc:
        raise FlowError(ErrorCodes.RESULT_WRITER_FAILED, f"invalid ResultWriter target: {exc}") from None

    writer = ObjectPutter(store, bucket, ErrorCodes.RESULT_WRITER_FAILED)
    files = layout(flow_name)
    if staged is not None:
        entries = publish_series(writer, base, files, staged)
    else:
        entries = write_series(writer, base, files, in_index_order(children), max_file_bytes)
    manifest = {
        "DestinationBucket": bucket,
        "MapRunName": map_run_name,
        "ResultFiles": {"FAILED": entries["FAILED"], "SUCCEED": entries["SUCCEED"]},
    }
    writer.put(join_key(base, "manifest.json"), json.dumps(manifest, indent=4).encode("utf-8"))
    return manifest


def in_index_order(children: Iterable[ChildExecution]) -> Iterator[ChildExecution]:
    if isinstance(children, (list, tuple)):
        yield from sorted(children, key=lambda c: c.index)
        return
    last = None
    for child in children:
        if last is not None and child.index <= last:
            raise ValueError(f"children must come in ascending index order ({child.index} after {last})")
        last = child.index
        yield child
