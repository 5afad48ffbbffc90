"""A directory that plays object storage: object ``bucket/key`` is the file ``root/bucket/key``.

Used by the CLI (``--store DIR``) and by tests. "A missing bucket dir -> NoSuchBucket, missing
file -> NoSuchObject"; ``list`` is in lexicographic key order; ``put`` writes atomically
(temporary file in the target directory, then ``os.replace``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, Iterator

from ..exceptions import NoSuchBucket, NoSuchObject, StoreError
from .base import ObjectInfo
from .urls import UnsafeKey, format_url, safe_bucket, safe_key

TMP_PREFIX = ".cloudflow-tmp-"


class LocalStore:
    """Object storage over a local directory; serves one scheme (``oss`` by default)."""

    def __init__(self, root: str | os.PathLike[str], scheme: str = "oss"):
        self.root = Path(root).resolve()
        self.scheme = scheme

    def __repr__(self) -> str:
        return f"LocalStore(root={str(self.root)!r}, scheme={self.scheme!r})"

    # ------------------------------------------------------------------ paths

    def _bucket_dir(self, bucket: str, *, must_exist: bool = True) -> Path:
        path = self.root / safe_bucket(bucket)
        if must_exist and not path.is_dir():
            raise NoSuchBucket("bucket does not exist", url=format_url(self.scheme, bucket))
        return path

    def _path(self, bucket: str, key: str) -> Path:
        """The file for ``bucket/key``; refuses a key that resolves outside ``root/bucket``."""
        base = self._bucket_dir(bucket)
        safe_key(key)
        path = (base / key).resolve()
        if path != base and base not in path.parents:
            raise UnsafeKey(f"object key resolves outside its bucket: {key!r}")
        return path

    def create_bucket(self, bucket: str) -> None:
        """Create the bucket directory (idempotent)."""
        self._bucket_dir(bucket, must_exist=False).mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ protocol

    def open(self, bucket: str, key: str) -> BinaryIO:
        path = self._path(bucket, key)
        if not path.is_file():
            raise NoSuchObject("object does not exist", url=format_url(self.scheme, bucket, key))
        return open(path, "rb")

    def put(self, bucket: str, key: str, data: bytes) -> None:
        if key.endswith("/"):
            raise UnsafeKey(f"a local object key cannot end with '/': {key!r}")
        path = self._path(bucket, key)
        with self._writing(bucket, key):
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            with self._writing(bucket, key):
                os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    def copy(self, bucket: str, key: str, to_bucket: str, to_key: str) -> None:
        """A hard link where the file system allows it (objects are never modified in place: ``put``
        replaces the file), else a byte copy; atomic like ``put``."""
        source = self._path(bucket, key)
        if not source.is_file():
            raise NoSuchObject("object does not exist", url=format_url(self.scheme, bucket, key))
        if to_key.endswith("/"):
            raise UnsafeKey(f"a local object key cannot end with '/': {to_key!r}")
        target = self._path(to_bucket, to_key)
        with self._writing(to_bucket, to_key):
            target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f"{TMP_PREFIX}{os.getpid()}-{threading.get_ident()}-{target.name}"
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        try:
            with self._writing(to_bucket, to_key):
                os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def list(self, bucket: str, prefix: str = "", start_after: str | None = None) -> Iterator[ObjectInfo]:
        base = self._bucket_dir(bucket)
        safe_key(prefix, allow_empty=True)
        keys = []
        for dirpath, _dirs, files in os.walk(base):
            rel_dir = os.path.relpath(dirpath, base)
            for name in files:
                if name.startswith(TMP_PREFIX):
                    continue
                key = name if rel_dir == "." else f"{rel_dir.replace(os.sep, '/')}/{name}"
                if key.startswith(prefix) and (start_after is None or key > start_after):
                    keys.append(key)
        for key in sorted(keys):
            yield self._info(bucket, key, base / key)

    def head(self, bucket: str, key: str) -> ObjectInfo:
        path = self._path(bucket, key)
        if not path.is_file():
            raise NoSuchObject("object does not exist", url=format_url(self.scheme, bucket, key))
        return self._info(bucket, key, path)

    # ------------------------------------------------------------------ helpers

    @contextmanager
    def _writing(self, bucket: str, key: str) -> Iterator[None]:
        """File-system refusals while writing ``bucket/key`` as a ``StoreError``: a directory cannot
        also be a file, so a local store cannot hold both ``a`` and ``a/b`` (OSS and S3 can)."""
        try:
            yield
        except (NotADirectoryError, IsADirectoryError, FileExistsError) as exc:
            raise StoreError(f"cannot write object: in a local store an object key cannot also be the prefix of "
                             f"another object: {exc.strerror}", url=format_url(self.scheme, bucket, key)) from None
        except OSError as exc:
            raise StoreError(f"cannot write object: {exc.strerror or exc}",
                             url=format_url(self.scheme, bucket, key)) from None

    def _info(self, bucket: str, key: str, path: Path) -> ObjectInfo:
        try:
            stat = path.stat()
        except OSError as exc:  # raced with a delete
            raise StoreError(f"cannot stat object: {exc.strerror}", url=format_url(self.scheme, bucket, key))
        return ObjectInfo(
            bucket=bucket,
            key=key,
            size=stat.st_size,
            etag=_etag(path),
            last_modified=datetime.fromtimestamp(int(stat.st_mtime), tz=timezone.utc),
        )


def _etag(path: Path) -> str:
    """OSS-style ETag of a simple upload: the quoted, upper-case MD5 of the content."""
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return f'"{digest.hexdigest().upper()}"'
