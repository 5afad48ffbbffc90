"""Shards of a distributed Map Run: spool child inputs, run a shard idempotently, collect results.

This is the crash-safety core of the Airflow engine, kept free of Airflow so it is tested directly:

* ``write_shards`` streams the Map's child inputs (items already constructed and batched) to a
  local spool while counting them, then cuts them into at most ``max_shards`` shard objects in the
  staging store. Only ``ShardRef`` records (a few numbers and a key) travel by XCom.
* ``run_shard`` runs the children of one shard and checkpoints their ``ChildExecution`` records in
  small immutable "part" objects. A retried shard first reads the parts already written and re-runs
  only the children without a recorded result: never a duplicate record, never a lost one. (A child
  that was running at the moment of a crash runs again: execution is at-least-once, recording is
  exactly-once.)
* With a ResultWriter, ``run_shard`` also renders its children's records into the final file
  format (``ResultLayout``) under ``segments/<shard>/`` and writes ``index.json`` (counts and files)
  last. The ResultWriter task then only sums the counts and copies the files into place
  (``staged_results``): its work grows with the number of files, not of children, so it is no
  serial tail behind the parallel shards.
* ``iter_results`` merges every shard's parts in child order, de-duplicating by child index, and
  reports a child whose shard never recorded it (its task instance failed for good) as failed with
  ``CHILD_LOST``. ``staged_results`` renders such a shard from its parts the same way.
"""

from __future__ import annotations

import heapq
import itertools
import json
import tempfile
import time
import uuid
from array import array
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator

from ..exceptions import FlowError, NoSuchObject
from ..runtime.concurrency import run_bounded
from ..runtime.records import FAILED, ChildExecution
from ..storage.base import ObjectStore
from ..storage.writers.cloudflow import DEFAULT_MAX_FILE_BYTES
from ..storage.writers.files import FileSeries, ObjectPutter, ResultLayout, StagedFile
from .progress import ShardProgress
from .progress import ShardTally as _ShardTally
from .progress import read_json as _read_json

_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
"""Compact JSON (one encoder, not one per call as ``json.dumps`` with options builds)."""

CHILD_LOST = "FnF.ChildExecutionLost"
"""Error code of a child whose shard task failed for good before recording it."""


@dataclass(frozen=True)
class Staging:
    """Where one Map Run keeps its shards and checkpoints: ``store``/``bucket``/``prefix``."""

    store: ObjectStore
    bucket: str
    prefix: str

    def key(self, *parts: str) -> str:
        return "/".join(p.strip("/") for p in (self.prefix, *parts) if p)


@dataclass(frozen=True)
class ShardRef:
    """What the mapped task instance receives: which children it owns and where they are."""

    index: int
    key: str
    first_child: int
    child_count: int
    first_item: int
    item_count: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ShardRef":
        return cls(**data)

    @property
    def label(self) -> str:
        """Shown as the mapped instance's name in the UI (``map_index_template``)."""
        last = self.first_item + self.item_count - 1
        return f"items {self.first_item}-{last}" if self.item_count else "no items"


@dataclass(frozen=True)
class ShardSummary:
    """What a shard instance returns by XCom: counts only."""

    index: int
    succeeded: int
    failed: int
    reused: int  # children whose result a previous attempt had already recorded
    not_run: int = 0  # children not started because the Map Run was stopped (tolerance exceeded)
    generation: int = 0  # the redrive generation of this attempt (0: the first run)
    map_run_failing: bool = False  # the Map Run's tolerance was exceeded when this shard ended


def write_shards(
    children: Iterable[Any],
    staging: Staging,
    *,
    size_for: Callable[[int], int],
) -> list[ShardRef]:
    """Spool ``children`` (objects with ``index, first_item, item_count, input``) and cut shards of
    ``size_for(total)`` children (the planner's choice, ``planning/sizing.py``).

    Memory stays flat: children go to a temporary file first (the total is unknown until the
    reader is exhausted), then each shard is streamed out of it.
    """
    with tempfile.TemporaryFile(mode="w+b") as spool:
        item_counts = array("q")  # 8 bytes a child: what the second pass needs without parsing lines
        for child in children:
            spool.write(f"{child.index} {child.first_item} {child.item_count} {_compact(child.input)}\n".encode("utf-8"))
            item_counts.append(child.item_count)
        total = len(item_counts)
        size = max(1, size_for(total))
        spool.seek(0)
        refs: list[ShardRef] = []
        for shard_index, start in enumerate(range(0, total, size)):
            lines = list(itertools.islice(spool, size))
            first_child, first_item, _ = lines[0].split(b" ", 2)
            key = staging.key("shards", f"{shard_index:05d}.jsonl")
            staging.store.put(staging.bucket, key, b"".join(lines))
            items = sum(item_counts[start : start + size])
            refs.append(ShardRef(shard_index, key, int(first_child), len(lines), int(first_item), items))
        return refs


def _lines(staging: Staging, key: str) -> Iterator[bytes]:
    """The non-blank lines of an object, streamed in chunks (any store's stream has ``read``)."""
    stream = staging.store.open(staging.bucket, key)
    try:
        tail = b""
        for chunk in iter(lambda: stream.read(1 << 16), b""):
            lines = (tail + chunk).split(b"\n")
            tail = lines.pop()
            yield from (line for line in lines if line.strip())
        if tail.strip():
            yield tail
    finally:
        stream.close()


def read_shard_lines(staging: Staging, shard: ShardRef) -> Iterator[tuple[int, int, int, bytes]]:
    """``(index, first_item, item_count, input as JSON bytes)`` per child; the input is not parsed.

    A shard line is ``<index> <first item> <item count> <input JSON>``: the numbers are read without
    parsing the (possibly large) input.
    """
    for line in _lines(staging, shard.key):
        index, first_item, item_count, body = line.split(b" ", 3)
        yield int(index), int(first_item), int(item_count), body


def read_shard(staging: Staging, shard: ShardRef) -> Iterator[tuple[int, int, int, Any]]:
    """Yield ``(index, first_item, item_count, input)`` for each child of the shard."""
    for index, first_item, item_count, body in read_shard_lines(staging, shard):
        yield index, first_item, item_count, json.loads(body)


def _parts_prefix(staging: Staging, shard_index: int) -> str:
    return staging.key("results", f"{shard_index:05d}") + "/"


@dataclass(frozen=True)
class Rendered:
    """A child's record already in its ResultWriter form: what a shard of a Map with a ResultWriter
    checkpoints (rendered once, where the child ran). ``series`` is empty when the record could not
    be rendered; ``body`` then holds the error (``{"Code", "Detail"}`` as JSON)."""

    index: int
    series: str
    item_count: int
    succeeded: bool
    body: bytes

    def frame(self) -> bytes:
        """``<index> <series|-> <items> <s|f> <length>\n<body>\n`` (a body holds newlines)."""
        head = f"{self.index} {self.series or '-'} {self.item_count} {'s' if self.succeeded else 'f'} {len(self.body)}\n"
        return head.encode("ascii") + self.body + b"\n"

    @classmethod
    def unframe(cls, data: bytes) -> Iterator["Rendered"]:
        at = 0
        while at < len(data):
            end = data.index(b"\n", at)
            index, series, items, status, length = data[at:end].decode("ascii").split(" ")
            body = data[end + 1 : end + 1 + int(length)]
            at = end + 2 + int(length)
            yield cls(int(index), "" if series == "-" else series, int(items), status == "s", body)


def render(layout: ResultLayout, record: ChildExecution) -> Rendered:
    """``record`` in the layout's form, or the rendering error kept for the ResultWriter."""
    try:
        series, body = layout.render(record)
    except FlowError as err:
        if err.code != layout.error_code:
            raise
        series, body = "", json.dumps(err.as_dict()).encode("utf-8")
    return Rendered(record.index, series, record.item_count, record.succeeded, body)


def _generation_of(key: str) -> int:
    """The redrive generation a part belongs to (``part-g<N>-…``; parts without one are generation 0)."""
    name = key.rsplit("/", 1)[-1]
    return int(name[6:].split("-", 1)[0]) if name.startswith("part-g") else 0


def read_recorded(staging: Staging, shard_index: int, *, generations: dict[int, int] | None = None
                  ) -> dict[int, ChildExecution | Rendered]:
    """Every child record the shard's earlier attempts checkpointed: ``ChildExecution`` from
    ``.jsonl`` parts, ``Rendered`` from ``.rec`` parts. A success wins (a child succeeds once, and is
    never run again); otherwise the newest redrive generation's record wins. ``generations``, when
    given, receives each kept record's generation."""
    recorded: dict[int, ChildExecution | Rendered] = {}
    kept_generation: dict[int, int] = {} if generations is None else generations
    for key in _part_keys(staging, shard_index):
        generation = _generation_of(key)
        if key.endswith(".rec"):
            stream = staging.store.open(staging.bucket, key)
            try:
                records: Iterable[ChildExecution | Rendered] = list(Rendered.unframe(stream.read()))
            finally:
                stream.close()
        else:
            records = (ChildExecution.from_json(json.loads(line)) for line in _lines(staging, key))
        for record in records:
            known = recorded.get(record.index)
            if known is None or (not known.succeeded and (record.succeeded or generation > kept_generation[record.index])):
                recorded[record.index] = record
                kept_generation[record.index] = generation
    return recorded


def _part_keys(staging: Staging, shard_index: int) -> list[str]:
    """The keys of the shard's part objects (one listing)."""
    try:
        return [info.key for info in staging.store.list(staging.bucket, _parts_prefix(staging, shard_index))
                if info.key.rsplit("/", 1)[-1].startswith("part-")]
    except NoSuchObject:
        return []


class _Checkpointer:
    """Buffers records and writes them as immutable part objects (unique names per attempt); with a
    layout, each record is rendered here, once, and kept in that form."""

    def __init__(self, staging: Staging, shard_index: int, *, layout: ResultLayout | None, generation: int,
                 every_records: int, every_seconds: float):
        self.staging = staging
        self.generation = generation
        self.prefix = _parts_prefix(staging, shard_index)
        self.layout = layout
        self.attempt = uuid.uuid4().hex[:8]
        self.every_records = every_records
        self.every_seconds = every_seconds
        self.buffer: list[bytes] = []
        self.seq = 0
        self.last = time.monotonic()
        self.on_flush: list[Callable[[], None]] = []
        self.on_part: list[Callable[[int, int], None]] = []  # (succeeded, failed) records of a part written
        self.part_succeeded = 0

    def add(self, record: ChildExecution) -> ChildExecution | Rendered:
        kept: ChildExecution | Rendered
        self.part_succeeded += record.succeeded
        if self.layout is not None:
            kept = render(self.layout, record)
            self.buffer.append(kept.frame())
        else:
            kept = record
            line = _compact(record.to_json())
            self.buffer.append(line.encode("utf-8") + b"\n")
        if len(self.buffer) >= self.every_records or time.monotonic() - self.last >= self.every_seconds:
            self.flush()
        return kept

    def flush(self) -> None:
        if not self.buffer:
            return
        suffix = "rec" if self.layout is not None else "jsonl"
        succeeded, failed = self.part_succeeded, len(self.buffer) - self.part_succeeded
        key = f"{self.prefix}part-g{self.generation:03d}-{self.attempt}-{self.seq:06d}-s{succeeded}f{failed}.{suffix}"
        self.staging.store.put(self.staging.bucket, key, b"".join(self.buffer))
        self.seq += 1
        self.buffer.clear()
        self.part_succeeded = 0
        self.last = time.monotonic()
        for listener in self.on_flush:
            listener()
        for part_listener in self.on_part:
            part_listener(succeeded, failed)


@dataclass(frozen=True)
class Attempt:
    """Which redrive generation an attempt of a shard belongs to (``results/<shard>/generation.json``).

    The first run is generation 0. An attempt that finds the previous generation *completed* is a
    **redrive** (Airflow's "Clear" of the failed shard): generation + 1, and children without a
    successful record run again. An attempt that finds it unfinished is a **crash retry** of that
    generation: only children without any record of it run."""

    generation: int
    completed: int | None  # the last generation that ran to its end, None: none yet
    definition: str = ""  # the Map state's fingerprint when the Map Run started

    @property
    def redrive(self) -> bool:
        return self.generation > 0


class RedriveRefused(RuntimeError):
    """A redrive of a Map Run whose Map definition changed since it started: its children would be
    recorded under two definitions (Step Functions redrives with the original definition; Airflow
    runs the current DAG file, so this is refused instead)."""


def begin_attempt(staging: Staging, shard_index: int, definition: str = "") -> Attempt:
    """Read the shard's generation record and write this attempt's start into it. ``definition``
    fingerprints the Map state: a redrive under a different one raises ``RedriveRefused``."""
    key = staging.key("results", f"{shard_index:05d}", "generation.json")
    state = shard_state(staging, shard_index) or {"started": None, "completed": None}
    started, completed = state.get("started"), state.get("completed")
    if started is None:
        generation = 0
    elif completed is not None and completed >= started:
        generation = started + 1
    else:
        generation = started
    recorded = state.get("definition", definition)
    if generation > 0 and recorded != definition:
        raise RedriveRefused(
            "the Map's definition changed since this Map Run started, so a redrive would record its children "
            "under two definitions; restore the definition to redrive, or clear the whole DAG run (the Map's "
            "ItemReader task included) to start a new Map Run")
    body = {**state, "started": generation, "completed": completed, "definition": recorded}
    staging.store.put(staging.bucket, key, json.dumps(body).encode())
    return Attempt(generation, completed, recorded)


def end_attempt(staging: Staging, shard_index: int, attempt: Attempt, *, failed_children: int,
                redrive_count: int) -> None:
    """Record the attempt as completed, with what a later redrive needs to know: how many children
    are left failed, and under which redrive of the execution (``redrive_count``) it ran."""
    key = staging.key("results", f"{shard_index:05d}", "generation.json")
    body = json.dumps({"started": attempt.generation, "completed": attempt.generation,
                       "definition": attempt.definition, "failed_children": failed_children,
                       "redrive_count": redrive_count}).encode()
    staging.store.put(staging.bucket, key, body)


def shard_state(staging: Staging, shard_index: int) -> dict[str, Any] | None:
    """The shard's ``generation.json`` (None: it never started)."""
    return _read_json(staging, staging.key("results", f"{shard_index:05d}", "generation.json"))


def run_shard(
    staging: Staging,
    shard: ShardRef,
    run_child: Callable[[int, int, int, Any], ChildExecution],
    *,
    concurrency: int = 1,
    layout: ResultLayout | None = None,
    layout_for: Callable[[int], ResultLayout | None] | None = None,
    stop_when: Callable[[int, int], bool] | None = None,
    total_items: int = 0,
    definition: str = "",
    redrive_count: int = 0,
    checkpoint_records: int = 200,
    checkpoint_seconds: float = 2.0,
) -> ShardSummary:
    """Run the shard's children not yet recorded, ``concurrency`` at a time, checkpointing results;
    with a ``layout``, the checkpoints hold rendered records, and the shard's ResultWriter files
    are written from them at the end. With ``stop_when(failed_items, total_items)`` (the Map's
    tolerance), no child starts once the Map Run's failures exceed it, in this shard or any other, on
    any machine (``StopBoard``). A redrive (see ``Attempt``) runs again the children whose record is
    a failure or who never ran."""
    attempt = begin_attempt(staging, shard.index, definition)
    if layout_for is not None:  # the layout of this redrive generation (ASL records carry RedriveCount)
        layout = layout_for(attempt.generation)
    stop = None if stop_when is None else StopBoard(staging, shard.index, attempt.generation,
                                                    total_items=total_items, exceeded=stop_when)
    generations: dict[int, int] = {}
    recorded = read_recorded(staging, shard.index, generations=generations)

    def done(index: int) -> bool:
        record = recorded.get(index)
        return record is not None and (record.succeeded or generations[index] == attempt.generation)

    # read the whole shard first (it is bounded by the shard size): a response stream held open
    # while slow children run would be reset by the store and waste a retry
    todo = [c for c in read_shard(staging, shard) if not done(c[0])]
    checkpoint = _Checkpointer(staging, shard.index, layout=layout, generation=attempt.generation,
                               every_records=checkpoint_records, every_seconds=checkpoint_seconds)
    this_generation = _ShardTally()  # what the stop board judges: failures of this generation alone
    for index, record in recorded.items():
        if generations[index] == attempt.generation:
            this_generation.count(record)
    if stop is not None:
        checkpoint.on_flush.append(lambda: stop.report(this_generation.failed_items))
        if this_generation.failed_items:
            stop.report(this_generation.failed_items)
    progress = ShardProgress.begin(staging, shard.index, attempt.generation, shard.child_count,
                                   list(recorded.values()), _part_keys(staging, shard.index))
    checkpoint.on_part.append(progress.part_written)

    def fresh() -> Iterator[ChildExecution | Rendered]:
        try:
            pending = todo if stop is None else stop.gate(todo)
            for record in _run_bounded(progress.watch(pending), run_child, max(1, concurrency)):
                progress.ran(recorded.get(record.index), record)  # counted before a checkpoint publishes it
                kept = checkpoint.add(record)
                this_generation.count(record)
                if stop is not None and not record.succeeded and stop_when(this_generation.failed_items, total_items):
                    checkpoint.flush()  # this shard alone exceeds the tolerance: stop now, and tell the others
                    stop.report(this_generation.failed_items, now=True)
                yield kept
        finally:
            checkpoint.flush()
            if stop is not None:
                stop.flush()

    ran = _Counter()
    latest = _latest_by_index(sorted(recorded.values(), key=lambda r: r.index),
                              ran.watch(_in_order(fresh(), [c[0] for c in todo])))
    final = _ShardTally()
    if layout is None:
        for record in latest:
            final.count(record)
    else:
        index = write_shard_files(staging, shard, layout, latest, generation=attempt.generation,
                                  stopped=lambda: stop is not None and stop.stopped)
        final.succeeded, final.failed = index["children"] - index["failed_children"], index["failed_children"]
    end_attempt(staging, shard.index, attempt, failed_children=final.failed, redrive_count=redrive_count)
    progress.end()
    counted = final.succeeded + final.failed
    failing = stop is not None and (stop.stopped or stop.stop_marked())
    return ShardSummary(shard.index, final.succeeded, final.failed, counted - ran.count, shard.child_count - counted,
                        attempt.generation, failing)


class _Counter:
    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0

    def watch(self, items: Iterable[Any]) -> Iterator[Any]:
        for item in items:
            self.count += 1
            yield item


def _in_order(results: Iterable[Any], order: list[int]) -> Iterator[Any]:
    """Results arriving in completion order, released in ``order`` (the shard's order of indexes);
    what never arrives (children not started after a stop) is skipped at the end."""
    position = {index: n for n, index in enumerate(order)}
    pending: list[tuple[int, int, Any]] = []
    expected = 0
    for seq, result in enumerate(results):
        heapq.heappush(pending, (position[result.index], seq, result))
        while pending and pending[0][0] == expected:
            expected += 1
            yield heapq.heappop(pending)[2]
    while pending:
        yield heapq.heappop(pending)[2]


def _latest_by_index(earlier: Iterable[Any], fresh: Iterable[Any]) -> Iterator[Any]:
    """Merge two streams in index order; where both hold an index, the fresh record wins."""
    held = None
    for record in heapq.merge(((r.index, 0, r) for r in earlier), ((r.index, 1, r) for r in fresh)):
        if held is not None and held[0] != record[0]:
            yield held[2]
        held = record
    if held is not None:
        yield held[2]


class StopBoard:
    """Early stop across the shards of one Map Run, through the staging store (so it works across
    machines): each shard publishes its failed-item count when it checkpoints (at most once a
    second) in its own small object ``stop/g<N>/progress/<shard>``; a listing says whose changed;
    when their sum exceeds the tolerance, the shard that sees it writes ``stop/g<N>/stop`` and every
    shard, looking for it at least once a second, starts no further child. A shard that starts after the stop runs nothing. ``N`` is the redrive generation: a
    redrive judges its own new failures, not the ones it is there to run again."""

    def __init__(self, staging: Staging, shard_index: int, generation: int, *, total_items: int,
                 exceeded: Callable[[int, int], bool], check_seconds: float = 1.0):
        self.staging, self.shard_index = staging, shard_index
        self.prefix = staging.key("stop", f"g{generation:03d}")
        self.total_items, self.exceeded = total_items, exceeded
        self.check_seconds = check_seconds
        self.stopped = False
        self.reported = self.pending = 0
        self.last_check = self.last_report = 0.0
        self.counts: dict[str, tuple[str, int]] = {}  # progress key → (ETag, failed items) last read

    def stop_marked(self) -> bool:
        """Whether a ``stop`` marker exists now (one HEAD request)."""
        try:
            self.staging.store.head(self.staging.bucket, f"{self.prefix}/stop")
        except NoSuchObject:
            return False
        return True

    def check(self) -> bool:
        """True once the Map Run is stopped (looks it up at most every ``check_seconds``)."""
        if not self.stopped and time.monotonic() - self.last_check >= self.check_seconds:
            self.last_check = time.monotonic()
            self.stopped = self.stop_marked()
        return self.stopped

    def gate(self, todo: Iterable[Any]) -> Iterator[Any]:
        """``todo`` until the Map Run is stopped."""
        for child in todo:
            if self.check():
                return
            yield child

    def report(self, failed_items: int, *, now: bool = False) -> None:
        """Publish this shard's failed items (at most every ``check_seconds`` unless ``now``); stop
        the Map Run when all shards' sum exceeds the tolerance. One small object per shard,
        overwritten; a listing tells which changed (by ETag), and only those are read again."""
        if failed_items <= self.reported or self.stopped:
            return
        if not now and time.monotonic() - self.last_report < self.check_seconds:
            self.pending = failed_items
            return
        self.reported, self.pending, self.last_report = failed_items, 0, time.monotonic()
        store, bucket = self.staging.store, self.staging.bucket
        store.put(bucket, f"{self.prefix}/progress/{self.shard_index:05d}", str(failed_items).encode())
        for info in store.list(bucket, f"{self.prefix}/progress/"):
            known = self.counts.get(info.key)
            if known is None or known[0] != info.etag:
                stream = store.open(bucket, info.key)
                try:
                    self.counts[info.key] = (info.etag, int(stream.read() or b"0"))
                finally:
                    stream.close()
        total_failed = sum(count for _, count in self.counts.values())
        if self.exceeded(total_failed, self.total_items):
            detail = {"shard": self.shard_index, "failed_items": total_failed, "total_items": self.total_items}
            store.put(bucket, f"{self.prefix}/stop", json.dumps(detail).encode())
            self.stopped = True

    def flush(self) -> None:
        """Publish a count held back by the throttle (the shard's end)."""
        if self.pending:
            self.report(self.pending, now=True)


# --------------------------------------------------------------------------- rendered records


def _segments_prefix(staging: Staging, shard_index: int) -> str:
    return staging.key("segments", f"{shard_index:05d}")


def write_shard_files(staging: Staging, shard: ShardRef, layout: ResultLayout, records: Iterable[Rendered],
                      max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, *,
                      stopped: Callable[[], bool] = lambda: False, generation: int = 0) -> dict[str, Any]:
    """Put ``records`` (rendered, in child order) into ``segments/<shard>/<SERIES>_<n>.json`` and
    write ``index.json`` last: its presence says the shard's files are complete. The first record
    that could not be rendered (a non-JSON value) is kept as the error the ResultWriter raises, as
    it would in one process. ``stopped()``, asked once the records are written: the Map Run was
    stopped, so the children missing here were never started (not lost)."""
    prefix = _segments_prefix(staging, shard.index)
    putter = ObjectPutter(staging.store, staging.bucket, layout.error_code)
    series = {name: layout.file_series(putter, prefix, name, max_file_bytes, "key") for name in layout.series}
    tally = _ShardTally()
    error = None
    for record in records:
        tally.count(record)
        if not record.series:
            error = error or json.loads(record.body)
        elif error is None:
            series[record.series].add(record.body)
    for files in series.values():
        files.flush()
    index: dict[str, Any] = {"files": {} if error else {name: [{"key": e["key"], "size": e["Size"]} for e in f.entries]
                                                         for name, f in series.items()}}
    if error:
        index["error"] = error
    index.update(shard=shard.index, stopped=stopped(), generation=generation, **tally.to_json())
    staging.store.put(staging.bucket, f"{prefix}/index.json", json.dumps(index).encode("utf-8"))
    return index


def read_shard_files(staging: Staging, shard_index: int) -> dict[str, Any] | None:
    """The ``index.json`` a shard wrote after rendering its records, or None."""
    return _read_json(staging, f"{_segments_prefix(staging, shard_index)}/index.json")


@dataclass(frozen=True)
class ShardedResults:
    """Every shard's rendered records (``StagedResults`` for the ResultWriter): counts summed over
    the shards' ``index.json``."""

    store: ObjectStore
    bucket: str
    indexes: tuple[dict[str, Any], ...]
    items: int
    failed_items: int
    children: int
    failed_children: int

    @classmethod
    def of(cls, store: ObjectStore, bucket: str, indexes: list[dict[str, Any]]) -> "ShardedResults":
        totals = {key: sum(i[key] for i in indexes) for key in ("items", "failed_items", "children", "failed_children")}
        return cls(store, bucket, tuple(indexes), **totals)

    def files(self, series: str) -> Iterator[StagedFile]:
        for index in self.indexes:
            for entry in index["files"].get(series, ()):
                yield StagedFile(entry["key"], entry["size"])


def staged_results(staging: Staging, shards: Iterable[ShardRef], layout: ResultLayout) -> ShardedResults:
    """The rendered records of every shard, in shard order. A shard that never wrote its files (its
    task instance failed for good) is rendered here from its parts, its missing children reported
    as ``CHILD_LOST``. A shard that could not render a record raises that error."""
    indexes = []
    for shard in shards:
        index = read_shard_files(staging, shard.index)
        if index is None or (index.get("children") != shard.child_count and not index.get("stopped")):
            rendered = (r if isinstance(r, Rendered) else render(layout, r) for r in iter_results(staging, [shard]))
            index = write_shard_files(staging, shard, layout, rendered)
        if index.get("error"):
            raise FlowError(index["error"]["Code"], index["error"].get("Detail"))
        indexes.append(index)
    return ShardedResults.of(staging.store, staging.bucket, indexes)


def _run_bounded(todo, run_child, concurrency: int) -> Iterator[ChildExecution]:
    """The shard's children, ``concurrency`` at a time, on threads from the process's budget
    (runtime/concurrency.py: ``run_bounded``)."""
    return run_bounded(lambda child: run_child(*child), todo, limit=concurrency, threaded=True)


def map_run_stopped(staging: Staging) -> bool:
    """Whether the Map Run was stopped early (its tolerance exceeded) in any redrive generation."""
    try:
        return any(info.key.endswith("/stop") for info in staging.store.list(staging.bucket, staging.key("stop") + "/"))
    except NoSuchObject:
        return False


def iter_results(staging: Staging, shards: Iterable[ShardRef]) -> Iterator[ChildExecution]:
    """Every child's record, in child order; a child no attempt recorded is reported as failed
    (``CHILD_LOST``), unless the Map Run was stopped early: then it was never started, and is left out."""
    stopped: bool | None = None
    for shard in shards:
        recorded = read_recorded(staging, shard.index)
        if len(recorded) == shard.child_count:  # the usual case: no need to read the shard again
            for index in sorted(recorded):
                yield recorded[index]
            continue
        if stopped is None:
            stopped = map_run_stopped(staging)
        for index, first_item, item_count, body in read_shard_lines(staging, shard):
            record = recorded.get(index)
            if record is None and stopped:
                continue
            if record is None:
                now = datetime.now(timezone.utc)
                record = ChildExecution(
                    name=f"child-{index}", index=index, status=FAILED, input=json.loads(body),
                    error_code=CHILD_LOST,
                    error_detail=f"shard {shard.index} ({shard.label}) failed before recording this child",
                    started=now, stopped=now, first_item=first_item, item_count=item_count,
                )
            yield record
