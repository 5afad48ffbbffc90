"""Record files split by size: ``<NAME>_<n>.json`` JSON arrays holding whole records.

"Stream them into files split at a documented size, never splitting a record": a file is cut before
a record would push it past ``max_file_bytes``; a file always holds at least one record, so one
oversized record gets a file of its own.
"""

from __future__ import annotations

from typing import Any

from ...exceptions import FlowError, StoreError
from ..base import ObjectStore
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


class FileSeries:
    """Accumulates one status's encoded records; puts a file whenever the next record would overflow."""

    def __init__(self, putter: ObjectPutter, base: str, name: str, entry_key: str, max_file_bytes: int):
        self.putter, self.base, self.name = putter, base, name
        self.entry_key, self.max_file_bytes = entry_key, max_file_bytes
        self.parts: list[bytes] = []
        self.size = 0  # body length minus the 2 bytes of "[\n" / "\n]" overhead not yet counted
        self.entries: list[dict[str, Any]] = []

    def add(self, record: bytes) -> None:
        extra = len(record) + 2  # the record plus ",\n" (or its share of the brackets)
        if self.parts and self.size + extra + 2 > self.max_file_bytes:
            self.flush()
        self.parts.append(record)
        self.size += extra

    def flush(self) -> None:
        if not self.parts:
            return
        body = b"[\n" + b",\n".join(self.parts) + b"\n]"
        key = join_key(self.base, f"{self.name}_{len(self.entries)}.json")
        self.putter.put(key, body)
        self.entries.append({self.entry_key: key, "Size": len(body)})
        self.parts, self.size = [], 0
