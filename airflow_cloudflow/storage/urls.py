"""Object URLs (``oss://bucket/key``, ``s3://bucket/key``) and key safety.

Keys come from data (manifests, listings, definitions), so every key is checked before use:
"object keys from data cannot escape their bucket/prefix" -- no ``..`` segment, no leading ``/``,
no NUL byte, no backslash-separated ``..``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..exceptions import StoreError

SCHEMES = ("oss", "s3")
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")
MAX_KEY_BYTES = 1023


class UnsafeKey(StoreError):
    """A key (or bucket name) that could escape its bucket/prefix, or is not a valid object key."""


def safe_bucket(bucket: str) -> str:
    """Validate a bucket name (3-63 chars of ``a-z0-9.-_``; never ``.``/``..``, never a path)."""
    if not isinstance(bucket, str) or not _BUCKET_RE.match(bucket) or ".." in bucket:
        raise UnsafeKey(f"invalid bucket name {bucket!r}")
    return bucket


def safe_key(key: str, *, allow_empty: bool = False) -> str:
    """Return ``key`` unchanged when it is a safe object key, else raise ``UnsafeKey``.

    Rejected: non-strings, empty keys (unless ``allow_empty``, for prefixes), a leading ``/``,
    NUL bytes, any ``..`` path segment (``/`` or ``\\`` separated), and keys over 1023 UTF-8 bytes.
    """
    if not isinstance(key, str):
        raise UnsafeKey(f"object key must be a string, not {type(key).__name__}")
    if not key:
        if allow_empty:
            return key
        raise UnsafeKey("object key is empty")
    if "\x00" in key:
        raise UnsafeKey(f"object key contains a NUL byte: {key!r}")
    if key.startswith("/") or key.startswith("\\"):
        raise UnsafeKey(f"object key must not start with '/': {key!r}")
    if any(seg == ".." for seg in re.split(r"[/\\]", key)):
        raise UnsafeKey(f"object key must not contain a '..' segment: {key!r}")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise UnsafeKey(f"object key longer than {MAX_KEY_BYTES} bytes")
    return key


@dataclass(frozen=True)
class ObjectUrl:
    """``<scheme>://<bucket>/<key>``; ``key`` may be empty (a bucket or prefix URL)."""

    scheme: str
    bucket: str
    key: str = ""

    def __str__(self) -> str:
        return format_url(self.scheme, self.bucket, self.key)


def parse_url(url: str) -> ObjectUrl:
    """Parse ``oss://bucket/key`` or ``s3://bucket/key`` (key validated with ``safe_key``)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in SCHEMES:
        raise UnsafeKey(f"not an object URL (expected oss://bucket/key or s3://bucket/key): {url!r}")
    bucket, _, key = rest.partition("/")
    return ObjectUrl(scheme, safe_bucket(bucket), safe_key(key, allow_empty=True))


def format_url(scheme: str, bucket: str, key: str = "") -> str:
    """The inverse of ``parse_url`` (no validation: used in error messages too)."""
    return f"{scheme}://{bucket}/{key}"


def join_key(*parts: str) -> str:
    """Join key parts with single slashes, dropping empty parts (``"a/" + "b"`` -> ``"a/b"``)."""
    cleaned = [p.strip("/") for p in parts if p and p.strip("/")]
    return "/".join(cleaned)
