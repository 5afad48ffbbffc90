"""What the Map Run view shows, read from one Map Run's staging area (no Airflow here).

``describe`` costs one listing of ``progress/`` and one small read per shard whose progress
changed (``ProgressCache`` keeps the rest by ETag), whatever the number of children;
``children_page`` reads the progress objects, lists the parts of only the shards that hold the
requested page and reads only the parts that hold its rows. Nothing here reads every record.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Iterator

from ..exceptions import NoSuchObject
from ..runtime.asl.map import tolerance_exceeded
from .progress import MAP_RUN_FILE, SUMMARY_FILE, part_counts, read_json

if TYPE_CHECKING:  # pragma: no cover
    from .shards import Staging

STATUSES = ("all", "succeeded", "failed")
PREVIEW_CHARS = 200
MAX_PAGE = 200


class ProgressCache:
    """Progress objects last read, by key, with their ETag: a refresh re-reads only what changed."""

    def __init__(self, limit: int = 100_000):
        self._known: dict[tuple[str, str], tuple[str, Any]] = {}
        self._lock = threading.Lock()
        self.limit = limit

    def progress(self, staging: "Staging") -> list[dict[str, Any]]:
        """Every shard's ``progress/<shard>.json``, in shard order."""
        try:
            infos = sorted(staging.store.list(staging.bucket, staging.key("progress") + "/"), key=lambda i: i.key)
        except NoSuchObject:
            return []
        found = []
        for info in infos:
            cache_key = (staging.bucket, info.key)
            with self._lock:
                known = self._known.get(cache_key)
            if known is None or known[0] != info.etag:
                value = read_json(staging, info.key)
                if value is None:
                    continue
                with self._lock:
                    if len(self._known) >= self.limit:
                        self._known.clear()
                    self._known[cache_key] = (info.etag, value)
                known = (info.etag, value)
            found.append(known[1])
        return found


_CACHE = ProgressCache()


def _tolerance(record: dict[str, Any]) -> tuple[int | None, float | None]:
    tolerance = record.get("tolerance")
    if not tolerance:
        return None, None
    return tolerance[0], tolerance[1]


def _failure_rate(failed_items: int, items: int) -> float:
    return round(100.0 * failed_items / items, 2) if items else 0.0


def describe(staging: "Staging", *, cache: ProgressCache | None = None, now: float | None = None) -> dict[str, Any]:
    """The Map Run's status, counts, throughput, estimate of the time left and tolerance."""
    now = time.time() if now is None else now
    record = read_json(staging, staging.key(MAP_RUN_FILE)) or {}
    summary = read_json(staging, staging.key(SUMMARY_FILE))
    shard_sizes = record.get("shard_children") or []
    progress = {p["shard"]: p for p in (cache or _CACHE).progress(staging)}
    shards = []
    totals = {"succeeded": 0, "failed": 0, "running": 0, "pending": 0, "total": 0}
    items = failed_items = 0
    for index, size in enumerate(shard_sizes):
        p = progress.get(index) or {}
        succeeded, failed, running = p.get("succeeded", 0), p.get("failed", 0), p.get("running", 0)
        pending = max(0, size - succeeded - failed - running)
        status = "PENDING" if not p else ("DONE" if p.get("done") else "RUNNING")
        shards.append({"shard": index, "status": status, "succeeded": succeeded, "failed": failed,
                       "running": running, "pending": pending, "total": size})
        for key, value in (("succeeded", succeeded), ("failed", failed), ("running", running), ("pending", pending),
                           ("total", size)):
            totals[key] += value
        items += p.get("items", 0)
        failed_items += p.get("failed_items", 0)
    count, percentage = _tolerance(record)
    started = min((p["started_at"] for p in progress.values() if p.get("started_at")), default=None)
    done = totals["succeeded"] + totals["failed"]
    elapsed = (max((p.get("updated_at", now) for p in progress.values()), default=now) if summary else now) - (
        started or now)
    throughput = round(done / elapsed, 2) if started and elapsed > 0 else None
    remaining = totals["running"] + totals["pending"]
    exceeded = tolerance_exceeded(failed_items, record.get("total_items") or items, count, percentage)
    status = (summary or {}).get("status") or ("FAILED" if exceeded and remaining == 0 else "RUNNING")
    return {
        "map_run_name": record.get("map_run_name"),
        "map_run_arn": record.get("map_run_arn"),
        "state": record.get("state"),
        "dialect": record.get("dialect"),
        "status": status,
        "counts": totals,
        "items": {"total": record.get("total_items", 0), "processed": items, "failed": failed_items},
        "tolerance": {"count": count, "percentage": percentage, "failure_rate": _failure_rate(failed_items, items),
                      "exceeded": exceeded},
        "max_concurrency": record.get("max_concurrency"),
        "throughput_per_second": throughput,
        "eta_seconds": round(remaining / throughput, 1) if throughput and status == "RUNNING" else None,
        "started_at": _iso(record.get("started_at")),
        "stopped_at": _iso((summary or {}).get("stopped_at")),
        "recent_failures": [f for p in progress.values() for f in p.get("recent_failures", ())][-10:],
        "shards": shards,
        "results": (summary or {}).get("results"),
        "summary": (summary or {}).get("line"),
    }


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")


def describe_map_run(view: dict[str, Any], execution_arn: str | None = None) -> dict[str, Any]:
    """The same data in the shape of Step Functions' ``DescribeMapRun`` response."""
    counts = view["counts"]
    status = {"RUNNING": "RUNNING", "SUCCEEDED": "SUCCEEDED", "FAILED": "FAILED"}.get(view["status"], "RUNNING")
    execution_counts = {"pending": counts["pending"], "running": counts["running"], "succeeded": counts["succeeded"],
                        "failed": counts["failed"], "timedOut": 0, "aborted": 0, "total": counts["total"],
                        "resultsWritten": counts["succeeded"] + counts["failed"] if view["results"] else 0,
                        "failuresNotRedrivable": 0, "pendingRedrive": 0}
    item_counts = dict(execution_counts, total=view["items"]["total"], failed=view["items"]["failed"],
                       succeeded=view["items"]["processed"] - view["items"]["failed"])
    tolerance = view["tolerance"]
    return {
        "mapRunArn": view["map_run_arn"], "executionArn": execution_arn, "status": status,
        "startDate": view["started_at"], "stopDate": view["stopped_at"],
        "maxConcurrency": view["max_concurrency"] or 0,
        "toleratedFailurePercentage": tolerance["percentage"] or 0.0,
        "toleratedFailureCount": tolerance["count"] or 0,
        "itemCounts": item_counts, "executionCounts": execution_counts, "redriveCount": 0,
    }


# --------------------------------------------------------------------------- the child table


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    total: int  # rows matching the filter
    offset: int
    limit: int
    parts_read: int  # how many part objects were read for this page (what stays small)

    def to_json(self) -> dict[str, Any]:
        return {"rows": self.rows, "total": self.total, "offset": self.offset, "limit": self.limit}


def _rows_of(p: dict[str, Any], status: str) -> int:
    rows = p.get("rows") or {}
    if status == "all":
        return rows.get("succeeded", 0) + rows.get("failed", 0)
    return rows.get(status, 0)


def children_page(staging: "Staging", *, status: str = "all", offset: int = 0, limit: int = 50,
                  cache: ProgressCache | None = None) -> Page:
    """Rows ``offset``…``offset+limit`` of the child records, shard by shard, in the order they were
    recorded, ``status`` ∈ all/succeeded/failed. A redriven child has one row per redrive generation."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    offset, limit = max(0, offset), max(1, min(limit, MAX_PAGE))
    progress = sorted((cache or _CACHE).progress(staging), key=lambda p: p["shard"])
    total = sum(_rows_of(p, status) for p in progress)
    rows: list[dict[str, Any]] = []
    parts_read = 0
    skip = offset
    for p in progress:
        in_shard = _rows_of(p, status)
        if skip >= in_shard:
            skip -= in_shard
            continue
        for part_key, part_rows in _parts(staging, p["shard"], status):
            if skip >= part_rows:
                skip -= part_rows
                continue
            parts_read += 1
            for row in _read_part(staging, part_key, status):
                if skip:
                    skip -= 1
                    continue
                rows.append(row)
                if len(rows) >= limit:
                    return Page(rows, total, offset, limit, parts_read)
    return Page(rows, total, offset, limit, parts_read)


def _parts(staging: "Staging", shard: int, status: str) -> Iterator[tuple[str, int]]:
    """(key, matching records) of a shard's parts, by name (one listing)."""
    prefix = staging.key("results", f"{shard:05d}") + "/"
    try:
        infos = list(staging.store.list(staging.bucket, prefix))
    except NoSuchObject:
        return
    for info in sorted(infos, key=lambda i: i.key):  # by generation, then attempt and sequence
        counts = part_counts(info.key)
        if counts is None or not info.key.rsplit("/", 1)[-1].startswith("part-"):
            continue
        matching = {"all": counts[0] + counts[1], "succeeded": counts[0], "failed": counts[1]}[status]
        if matching:
            yield info.key, matching


def _read_part(staging: "Staging", key: str, status: str) -> Iterator[dict[str, Any]]:
    from .shards import Rendered  # the frame format of rendered parts
    from ..runtime.records import ChildExecution

    stream = staging.store.open(staging.bucket, key)
    try:
        data = stream.read()
    finally:
        stream.close()
    generation = int(key.rsplit("/", 1)[-1][6:].split("-", 1)[0])
    if key.endswith(".rec"):
        for rendered in Rendered.unframe(data):
            if status == "all" or (status == "succeeded") == rendered.succeeded:
                yield _rendered_row(rendered, generation)
    else:
        for line in data.splitlines():
            if line.strip():
                record = ChildExecution.from_json(json.loads(line))
                if status == "all" or (status == "succeeded") == record.succeeded:
                    yield _record_row(record, generation)


def preview(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def _record_row(record: Any, generation: int) -> dict[str, Any]:
    return {"index": record.index, "name": record.name, "status": record.status.upper(),
            "error": record.error_code, "cause": record.error_detail,
            "started": record.started.isoformat() if record.started else None,
            "stopped": record.stopped.isoformat() if record.stopped else None,
            "input": preview(record.input), "output": None if record.output is None else preview(record.output),
            "generation": generation}


def _rendered_row(rendered: Any, generation: int) -> dict[str, Any]:
    """A ResultWriter record (ASL: Name/Status/Error/Cause/StartDate…; CloudFlow: ExecutionName/
    Status/Output {"ErrorCode"}/StartedTime…) as a table row."""
    try:
        body = json.loads(rendered.body)
    except ValueError:
        body = {}
    if not rendered.series:  # not renderable: the body holds the rendering error
        return {"index": rendered.index, "name": None, "status": "FAILED", "error": body.get("Code"),
                "cause": body.get("Detail"), "started": None, "stopped": None, "input": None, "output": None,
                "generation": generation}
    output = body.get("Output")
    error = body.get("Error")
    if error is None and not rendered.succeeded:
        try:
            error = json.loads(output).get("ErrorCode") if isinstance(output, str) else None
        except (ValueError, AttributeError):
            error = None
    return {"index": rendered.index, "name": body.get("Name") or body.get("ExecutionName"),
            "status": "SUCCEEDED" if rendered.succeeded else "FAILED", "error": error, "cause": body.get("Cause"),
            "started": body.get("StartDate") or body.get("StartedTime"),
            "stopped": body.get("StopDate") or body.get("StoppedTime"),
            "input": None if body.get("Input") is None else preview(body["Input"]),
            "output": None if output is None or not rendered.succeeded else preview(output),
            "generation": generation}
