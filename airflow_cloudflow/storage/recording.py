"""Which objects one Airflow task read and wrote, as the stores saw them (for asset events and
lineage of locations known only at run time: docs/assets.md).

``RecordingResolver`` wraps the ``StoreResolver`` the interpreter and the OSS/S3 actions use (never
the staging store). While a ``recording()`` block is open in the process, every ``open``/``head``
(read), ``list`` (read of a prefix) and ``put``/``copy`` destination (write) is noted; outside one
the wrapper only forwards. A task runs alone in its worker process (and ``dag.test()`` runs tasks one
after another), so one process-wide log, shared by the threads of a shard, is enough. At most
``MAX_LOCATIONS`` distinct locations are kept per direction; the rest are counted. No Airflow import.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator

from .locations import DataLocation

MAX_LOCATIONS = 1000


class AccessLog:
    """The locations read and written while it was active, in first-seen order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reads: dict[DataLocation, None] = {}
        self.writes: dict[DataLocation, None] = {}
        self.dropped = 0

    def note(self, into: dict[DataLocation, None], location: DataLocation) -> None:
        with self._lock:
            if location in into:
                return
            if len(into) >= MAX_LOCATIONS:
                self.dropped += 1
                return
            into[location] = None


_active: AccessLog | None = None


def start() -> AccessLog:
    """Begin a log that ``stop`` ends (a task's ``pre_execute``/``post_execute`` pair)."""
    global _active
    _active = AccessLog()
    return _active


def stop(log: AccessLog | None) -> None:
    global _active
    if _active is log:
        _active = None


@contextlib.contextmanager
def recording() -> Iterator[AccessLog]:
    """Note every access through a ``RecordingResolver`` in this process until the block ends."""
    log = start()
    try:
        yield log
    finally:
        stop(log)


class _RecordingStore:
    """An ``ObjectStore`` that reports what it is asked for to the active log."""

    def __init__(self, store: Any, scheme: str):
        self._store = store
        self._scheme = scheme

    def _note(self, write: bool, bucket: str, key: str, prefix: bool = False) -> None:
        log = _active
        if log is not None:
            log.note(log.writes if write else log.reads, DataLocation(self._scheme, bucket, key, prefix))

    def open(self, bucket: str, key: str):
        self._note(False, bucket, key)
        return self._store.open(bucket, key)

    def head(self, bucket: str, key: str):
        self._note(False, bucket, key)
        return self._store.head(bucket, key)

    def list(self, bucket: str, prefix: str = "", start_after: str | None = None):
        self._note(False, bucket, prefix, prefix=True)
        return self._store.list(bucket, prefix, start_after)

    def put(self, bucket: str, key: str, data: bytes) -> None:
        self._note(True, bucket, key)
        return self._store.put(bucket, key, data)

    def copy(self, bucket: str, key: str, to_bucket: str, to_key: str) -> None:
        self._note(True, to_bucket, to_key)
        return self._store.copy(bucket, key, to_bucket, to_key)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def __repr__(self) -> str:
        return f"Recording({self._store!r})"


class RecordingResolver:
    """A ``StoreResolver`` whose stores report to the active ``AccessLog``."""

    def __init__(self, resolver: Any):
        self._resolver = resolver

    def for_scheme(self, scheme: str) -> _RecordingStore:
        return _RecordingStore(self._resolver.for_scheme(scheme), scheme)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._resolver, name)

    def __repr__(self) -> str:
        return f"Recording({self._resolver!r})"


def result_folders(writes: "list[DataLocation]") -> "list[tuple[DataLocation, dict[str, str]]]":
    """A ResultWriter's writes as its destinations: each ``<Prefix>/<map run>/manifest.json``
    (written last, docs/storage.md) stands for the ``Prefix`` it was written under (with
    ``{"manifest": key}``); the result files beside a manifest are left out, other writes kept."""
    folders: list[tuple[DataLocation, dict[str, str]]] = []
    runs: list[tuple[str, str, str]] = []
    for loc in writes:
        parts = loc.key.split("/")
        if not loc.prefix and len(parts) >= 2 and parts[-1] == "manifest.json":
            runs.append((loc.scheme, loc.bucket, "/".join(parts[:-1]) + "/"))
            folders.append((DataLocation(loc.scheme, loc.bucket, "/".join(parts[:-2]), prefix=True),
                            {"manifest": loc.key}))
    kept = [(w, {}) for w in writes
            if not any(w.scheme == s and w.bucket == b and w.key.startswith(p) for s, b, p in runs)]
    return folders + kept


__all__ = ["AccessLog", "MAX_LOCATIONS", "RecordingResolver", "recording", "result_folders", "start", "stop"]
