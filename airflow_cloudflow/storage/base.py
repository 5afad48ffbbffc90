"""The one small store interface every backend implements (local directory, OSS, S3).

URLs are ``oss://bucket/key`` and ``s3://bucket/key``; a store serves one scheme. Keys are always
relative to their bucket: ``safe_key`` rejects keys that would climb out of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Iterator, Protocol


@dataclass(frozen=True)
class ObjectInfo:
    """What a listing or a HEAD request tells about one object."""

    bucket: str
    key: str
    size: int
    etag: str = ""
    last_modified: datetime | None = None
    storage_class: str = "Standard"
    object_type: str = "Normal"


class ObjectStore(Protocol):
    """Get a stream, put, list with paging, head."""

    scheme: str  # "oss" | "s3" | "file"

    def open(self, bucket: str, key: str) -> BinaryIO:
        """A readable binary stream of the object (streamed, never read whole into memory)."""
        ...

    def put(self, bucket: str, key: str, data: bytes) -> None:
        """Write an object (large payloads go up in parts)."""
        ...

    def list(self, bucket: str, prefix: str = "", start_after: str | None = None) -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``, in lexicographic key order, paging internally."""
        ...

    def head(self, bucket: str, key: str) -> ObjectInfo:
        ...

    def copy(self, bucket: str, key: str, to_bucket: str, to_key: str) -> None:
        """Copy an object inside this store (server-side where the backend can)."""
        ...


def copy_object(source: ObjectStore, bucket: str, key: str, target: ObjectStore, to_bucket: str, to_key: str) -> None:
    """Copy ``bucket/key`` of ``source`` to ``to_bucket/to_key`` of ``target``: server-side when both
    are the same store, else streamed through this process (read whole: callers copy bounded files)."""
    if source is target:
        source.copy(bucket, key, to_bucket, to_key)
        return
    stream = source.open(bucket, key)
    try:
        data = stream.read()
    finally:
        stream.close()
    target.put(to_bucket, to_key, data)
