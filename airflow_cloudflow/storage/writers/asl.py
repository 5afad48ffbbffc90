"""AWS ``ResultWriter`` (asl-distributed-map.md §3): ``SUCCEEDED_n.json`` / ``FAILED_n.json`` /
``PENDING_n.json`` then ``manifest.json`` under ``<Prefix>/<uuid>/``, where "The ``<uuid>`` in the key is
the last segment of the Map Run ARN".

Manifest: ``{DestinationBucket, MapRunArn, ResultFiles: {FAILED, PENDING, SUCCEEDED: [{Key, Size}]}}``.
Records: ``ExecutionArn, Input, InputDetails, Name, Output, OutputDetails, RedriveCount, RedriveStatus,
RedriveStatusReason, StartDate, StopDate, StateMachineArn, Status``; "Failed records carry ``Error``
and ``Cause`` instead of ``Output``"; "``Input`` and ``Output`` are strings". Splitting, empty statuses
and idempotency follow the CloudFlow writer (docs/storage.md).

``WriterConfig`` (§2.6): "``OutputType``: ``JSON`` (array) | ``JSONL``"; "``Transformation``:
``NONE``: full execution records … ``COMPACT``: only the child outputs … ``FLATTEN``: child outputs
that are arrays are flattened into one array. Failed children are always written as full ``NONE``
records." So only the ``SUCCEEDED`` series changes; a ``JSONL`` file holds one compact JSON value
per line and is named ``<SERIES>_<n>.jsonl`` [INFERRED: the file name is not documented]. The
shards render with this same layout, so both engines write the same files.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from ...exceptions import FlowError
from ...runtime.asl.records import NotAMapRunArn, arns, child_record, json_text
from ...runtime.records import ChildExecution
from ..base import ObjectStore
from ..urls import UnsafeKey, join_key, safe_bucket, safe_key
from .cloudflow import DEFAULT_MAX_FILE_BYTES, in_index_order, record_bytes, record_failure
from .files import JSON_ARRAY, JSON_LINES, ObjectPutter, ResultLayout, StagedResults, publish_series, write_series

RESULT_WRITER_FAILED = "States.ResultWriterFailed"
def transformation(writer_config: Any) -> tuple[str, str]:
    """``(OutputType, Transformation)`` of a ``WriterConfig`` with a Resource (defaults ``JSON``,
    ``NONE``: "the default when exporting to S3 without WriterConfig")."""
    config = writer_config if isinstance(writer_config, dict) else {}
    return config.get("OutputType") or "JSON", config.get("Transformation") or "NONE"


def _elements(output: Any, how: str) -> list[Any]:
    if how == "FLATTEN" and isinstance(output, list):
        return output
    return [output]


def layout(map_run_arn: str, redrive_count: int = 0, writer_config: Any = None,
           express: bool = False) -> ResultLayout:
    """The AWS layout: ``SUCCEEDED``, ``FAILED`` and ``PENDING`` series, ``Key`` entries, in the
    ``WriterConfig``'s output type and transformation."""
    try:
        sm_arn, exec_prefix, _ = arns(map_run_arn, express)
    except (UnsafeKey, NotAMapRunArn) as exc:
        raise FlowError(RESULT_WRITER_FAILED, f"invalid ResultWriter target: {exc}") from None
    output_type, how = transformation(writer_config)
    framing = JSON_LINES if output_type == "JSONL" else JSON_ARRAY

    def render(child: ChildExecution) -> tuple[str, bytes]:
        try:
            name, record = child_record(child, sm_arn, exec_prefix, redrive_count)
            if how != "NONE" and record["Status"] == "SUCCEEDED":
                return name, framing.separator.join(json_text(v).encode("utf-8") for v in _elements(child.output, how))
            return name, (json_text(record).encode("utf-8") if output_type == "JSONL" else record_bytes(record))
        except (ValueError, TypeError, RecursionError) as exc:
            raise record_failure(RESULT_WRITER_FAILED, child, exc) from None

    return ResultLayout(("SUCCEEDED", "FAILED", "PENDING"), "Key", RESULT_WRITER_FAILED, render, framing)


def write_results(
    store: ObjectStore,
    *,
    bucket: str,
    prefix: str,
    map_run_arn: str,
    children: Iterable[ChildExecution] = (),
    staged: StagedResults | None = None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    writer_config: Any = None,
    express: bool = False,
) -> dict:
    """Write the record files then ``manifest.json``; return ``{"manifest": ..., "ResultWriterDetails":
    {"Bucket", "Key"}}`` -- the latter is what the Map state outputs. ``staged``: the shards rendered
    the records already; their files are copied into place."""
    try:
        safe_bucket(bucket)
        safe_key(prefix or "", allow_empty=True)
        _, _, uuid = arns(map_run_arn)
        base = join_key(prefix or "", uuid)
    except (UnsafeKey, NotAMapRunArn) as exc:
        raise FlowError(RESULT_WRITER_FAILED, f"invalid ResultWriter target: {exc}") from None
    putter = ObjectPutter(store, bucket, RESULT_WRITER_FAILED)
    files = layout(map_run_arn, writer_config=writer_config, express=express)
    if staged is not None:
        entries = publish_series(putter, base, files, staged)
    else:
        entries = write_series(putter, base, files, in_index_order(children), max_file_bytes)
    manifest = {
        "DestinationBucket": bucket,
        "MapRunArn": map_run_arn,
        "ResultFiles": {n: entries[n] for n in ("FAILED", "PENDING", "SUCCEEDED")},
    }
    key = join_key(base, "manifest.json")
    putter.put(key, json.dumps(manifest, indent=4).encode("utf-8"))
    return {"manifest": manifest, "ResultWriterDetails": {"Bucket": bucket, "Key": key}}
