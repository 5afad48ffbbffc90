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
