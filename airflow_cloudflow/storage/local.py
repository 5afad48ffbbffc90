"""A directory that plays object storage: object ``bucket/key`` is the file ``root/bucket/key``.

Used by the CLI (``--store DIR``) and by tests. "A missing bucket dir -> NoSuchBucket, missing
file -> NoSuchObject"; ``list`` is in lexicographic key order; ``put`` writes atomically
(temporary file in the target directory, then ``os.replace``).

Only regular files reached without following a symbolic link are objects (docs/storage.md "Local
store"): a symlink, FIFO, socket or device file is never listed, opened or hashed, so a link to a
file outside the store reveals nothing and a FIFO or ``/dev/zero`` cannot hang a listing. OSS/S3 keys
are opaque strings, so ``./x`` is a different object from ``x``; a directory cannot represent that, so
keys with an empty or ``.`` segment (``./x``, ``a//b``, ``a/./b``) or a trailing ``/`` are refused.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat as stat_mode
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
_NOFOLLOW_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
_NOFOLLOW_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK  # a FIFO opens at once (then is refused)


def local_key(key: str) -> str:
    """``safe_key`` plus what a directory tree cannot represent faithfully: an empty or ``.``
    segment (``./x`` and ``x`` are distinct OSS/S3 keys but one file) or a trailing ``/``."""
    safe_key(key)
    if key.endswith("/"):
        raise UnsafeKey(f"a local object key cannot end with '/': {key!r}")
    if any(segment in ("", ".") for segment in key.split("/")):
        raise UnsafeKey(f"a local store cannot represent a key with an empty or '.' segment: {key!r}")
    return key


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
        if must_exist and (path.is_symlink() or not path.is_dir()):
            raise NoSuchBucket("bucket does not exist", url=format_url(self.scheme, bucket))
        return path

    def _path(self, bucket: str, key: str) -> Path:
        """The file for ``bucket/key``; refuses a key whose path goes through a symbolic link (and so
        may resolve outside ``root/bucket``)."""
        base = self._bucket_dir(bucket)
        path = base / local_key(key)
        if path.resolve() != path:
            raise UnsafeKey(f"object key goes through a symbolic link: {key!r}")
        return path

    def _open_regular(self, bucket: str, key: str) -> BinaryIO:
        """Open ``bucket/key`` component by component without following a symlink, and only if it
        is a regular file (else ``NoSuchObject``); no check-then-open race."""
        base = self._bucket_dir(bucket)
        *dirs, name = local_key(key).split("/")
        missing = NoSuchObject("object does not exist", url=format_url(self.scheme, bucket, key))
        dir_fd = os.open(base, _NOFOLLOW_DIR)
        try:
            for part in dirs:
                try:
                    fd = os.open(part, _NOFOLLOW_DIR, dir_fd=dir_fd)
                except OSError:  # ENOENT, ENOTDIR, ELOOP (a symlink)
                    raise missing from None
                os.close(dir_fd)
                dir_fd = fd
            try:
                fd = os.open(name, _NOFOLLOW_FILE, dir_fd=dir_fd)
            except OSError:
                raise missing from None
        finally:
            os.close(dir_fd)
        if not stat_mode.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise missing
        return os.fdopen(fd, "rb")

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

    def create_bucket(self, bucket: str) -> None:
        """Create the bucket directory (idempotent)."""
        self._bucket_dir(bucket, must_exist=False).mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ protocol

    def open(self, bucket: str, key: str) -> BinaryIO:
        return self._open_regular(bucket, key)

    def put(self, bucket: str, key: str, data: bytes) -> None:
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
        if source.is_symlink() or not source.is_file():
            raise NoSuchObject("object does not exist", url=format_url(self.scheme, bucket, key))
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
        keys = sorted(key for key in _regular_files(base, "") if key.startswith(prefix)
                      and (start_after is None or key > start_after))
        for key in keys:
            try:
                yield self.head(bucket, key)
            except NoSuchObject:  # deleted (or replaced by a non-file) since the walk
                continue

    def head(self, bucket: str, key: str) -> ObjectInfo:
        with self._open_regular(bucket, key) as fh:
            stat = os.fstat(fh.fileno())
            digest = hashlib.md5()
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        return ObjectInfo(
            bucket=bucket,
            key=key,
            size=stat.st_size,
            etag=f'"{digest.hexdigest().upper()}"',  # OSS-style ETag of a simple upload
            last_modified=datetime.fromtimestamp(int(stat.st_mtime), tz=timezone.utc),
        )


def _regular_files(directory: Path, rel: str) -> Iterator[str]:
    """Keys of the regular files under ``directory``, never entering a symlinked directory and
    skipping symlinks, special files, temporary files and names a key cannot carry."""
    try:
        entries = list(os.scandir(directory))
    except OSError:  # raced with a delete, or unreadable
        return
    for entry in entries:
        key = f"{rel}{entry.name}"
        if entry.is_dir(follow_symlinks=False):
            yield from _regular_files(Path(entry.path), f"{key}/")
        elif entry.is_file(follow_symlinks=False) and not entry.name.startswith(TMP_PREFIX):
            yield key
