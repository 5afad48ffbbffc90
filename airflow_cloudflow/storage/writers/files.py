"""Record files split by size: ``<NAME>_<n>.json`` JSON arrays holding whole records (or, with an
ASL ``WriterConfig.OutputType: JSONL``, ``<NAME>_<n>.jsonl`` files of one record per line).

"Stream them into files split at a documented size, never splitting a record": a file is cut before
a record would push it past ``max_file_bytes``; a file always holds at least one record, so one
oversized record gets a file of its own.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Protocol

from ...exceptions import FlowError, StoreError
from ...runtime.records import ChildExecution
from ..base import ObjectStore, copy_object
from ..urls import format_url, join_key


class ObjectPutter:
    """Puts objects into one bucket; store failures become ``FlowError(code, "cannot write <url>: …")``."""

    def __init__(self, store: ObjectStore, bucket: str, error_code: str):
        self.store, self.bucket, self.error_code = store, bucket, error_code

    def put(self, key: str, body: bytes) -> None:
        try:
            self.store.put(self.bucket, key, body)
        except StoreError as exc:
            url = format_url(self.store.scheme, self.bucket, key)
            reason = str(exc).split(" (", 1)[0] if exc.url else str(exc)
            raise FlowError(self.error_code, f"cannot write {url}: {reason}") from None


@dataclass(frozen=True)
class Framing:
    """How the records of one file are put together: ``head`` + records joined by ``separator`` +
    ``tail``, in a file named ``<NAME>_<n><extension>``."""

    head: bytes
    separator: bytes
    tail: bytes
    extension: str


JSON_ARRAY = Framing(b"[\n", b",\n", b"\n]", ".json")
JSON_LINES = Framing(b"", b"\n", b"\n", ".jsonl")


class FileSeries:
    """Accumulates one status's encoded records; puts a file whenever the next record would overflow.
    A record may hold several elements already joined by the separator (ASL ``FLATTEN``) or none
    (an empty ``b""``, which adds nothing)."""

    def __init__(self, putter: ObjectPutter, base: str, name: str, entry_key: str, max_file_bytes: int,
                 framing: Framing = JSON_ARRAY):
        self.putter, self.base, self.name = putter, base, name
        self.entry_key, self.max_file_bytes, self.framing = entry_key, max_file_bytes, framing
        self.parts: list[bytes] = []
        self.size = 0  # the parts plus one separator each
        self.entries: list[dict[str, Any]] = []

    def add(self, record: bytes) -> None:
        if not record:
            return
        f = self.framing
        extra = len(record) + len(f.separator)
        if self.parts and self.size + extra + len(f.head) + len(f.tail) - len(f.separator) > self.max_file_bytes:
            self.flush()
        self.parts.append(record)
        self.size += extra

    def flush(self) -> None:
        if not self.parts:
            return
        f = self.framing
        body = f.head + f.separator.join(self.parts) + f.tail
        key = join_key(self.base, f"{self.name}_{len(self.entries)}{f.extension}")
        self.putter.put(key, body)
        self.entries.append({self.entry_key: key, "Size": len(body)})
        self.parts, self.size = [], 0


@dataclass(frozen=True)
class ResultLayout:
    """How one dialect lays its ResultWriter records out: the file series (in manifest order), the
    manifest's key for an object name, and how one child becomes ``(series, record bytes)``."""

    series: tuple[str, ...]
    entry_key: str
    error_code: str
    render: Callable[[ChildExecution], tuple[str, bytes]]
    framing: Framing = JSON_ARRAY

    def file_series(self, putter: ObjectPutter, base: str, name: str, max_file_bytes: int, entry_key: str | None = None
                    ) -> FileSeries:
        """The ``FileSeries`` of one series in this layout's framing."""
        return FileSeries(putter, base, name, entry_key or self.entry_key, max_file_bytes, self.framing)


def write_series(
    putter: ObjectPutter, base: str, layout: ResultLayout, children: Iterable[ChildExecution], max_file_bytes: int
) -> dict[str, list[dict[str, Any]]]:
    """Render ``children`` (in the order given) into ``<base>/<SERIES>_<n>.json`` files; returns the
    entries per series (``{entry_key: key, "Size": n}``)."""
    series = {name: layout.file_series(putter, base, name, max_file_bytes) for name in layout.series}
    for child in children:
        name, record = layout.render(child)
        series[name].add(record)
    for s in series.values():
        s.flush()
    return {name: s.entries for name, s in series.items()}


@dataclass(frozen=True)
class StagedFile:
    """One record file already rendered by a shard, in the staging store."""

    key: str
    size: int


class StagedResults(Protocol):
    """Records the shards rendered themselves (the Airflow engine): the ResultWriter only counts
    them and copies their files into place, so it does not re-read every child (docs/scaling.md)."""

    store: ObjectStore
    bucket: str
    items: int
    failed_items: int
    children: int
    failed_children: int

    def files(self, series: str) -> Iterable[StagedFile]:
        """The staged files of one series, in child order."""
        ...


def publish_series(putter: ObjectPutter, base: str, layout: ResultLayout, staged: StagedResults,
                   threads: int = 8) -> dict[str, list[dict[str, Any]]]:
    """Copy every staged file to ``<base>/<SERIES>_<n>.json`` (numbered per series in child order,
    server-side when staging and destination share a store); returns the manifest entries."""
    jobs: list[tuple[StagedFile, str]] = []
    entries: dict[str, list[dict[str, Any]]] = {}
    for name in layout.series:
        entries[name] = []
        for staged_file in staged.files(name):
            key = join_key(base, f"{name}_{len(entries[name])}{layout.framing.extension}")
            jobs.append((staged_file, key))
            entries[name].append({layout.entry_key: key, "Size": staged_file.size})

    def copy(job: tuple[StagedFile, str]) -> None:
        source, key = job
        try:
            copy_object(staged.store, staged.bucket, source.key, putter.store, putter.bucket, key)
        except StoreError as exc:
            url = format_url(putter.store.scheme, putter.bucket, key)
            raise FlowError(putter.error_code, f"cannot write {url}: {str(exc).split(' (', 1)[0]}") from None

    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(jobs))), thread_name_prefix="cloudflow-publish") as pool:
        list(pool.map(copy, jobs))
    return entries
