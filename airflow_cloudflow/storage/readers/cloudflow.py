"""CloudFlow ``ItemReader`` source types: OSS_CSV, OSS_JSON_LIST, OSS_OBJECTS, OSS_INVENTORY_FILES.

Rules (conformance README, "Readers"):

* ``OSS_CSV``: "by default the first row gives the field names. Every value is a string. A trailing
  newline adds no item." With ``ReaderConfig.CSVHeaders`` every row is data.
* ``OSS_JSON_LIST``: "the object is one JSON array, one item per element, with JSON types kept."
* ``OSS_OBJECTS``: "one item per object whose key starts with ``Prefix``, in OSS listing order
  (lexicographic by key). The item has the seed's shape."
* ``OSS_INVENTORY_FILES``: ``ObjectName`` is an OSS inventory ``manifest.json``; its data files are
  gzip CSV without header, columns named by ``fileSchema`` "split on commas with the spaces trimmed",
  read "file by file in manifest order, and row by row within each file".

Every failure raises ``FlowError(ErrorCodes.ITEM_READER_FAILED, detail)``; the detail names the object
(``oss://bucket/key``) and the row or byte offset.
"""

from __future__ import annotations

import contextlib
import json
import zlib
from typing import Any, Callable, Iterator

from ...exceptions import ErrorCodes, FlowError, StoreError
from ..base import ObjectInfo, ObjectStore
from ..urls import UnsafeKey, format_url, safe_bucket, safe_key
from ...jsonvalues import reject_constant
from .streams import CountingStream, JsonArrayScanner, MalformedData, csv_rows, limit_items, maybe_gunzip, text_stream

MAX_MANIFEST_BYTES = 16 * 1024 * 1024
SOURCE_TYPES = ("OSS_CSV", "OSS_JSON_LIST", "OSS_OBJECTS", "OSS_INVENTORY_FILES")


def read_items(
    store: ObjectStore,
    source_type: str,
    parameters: dict,
    *,
    csv_headers: list[str] | tuple[str, ...] | None = None,
    max_items: int | None = None,
) -> Iterator[Any]:
    """Stream the items of one ItemReader; ``max_items`` (None or 0 = no limit) stops reading early."""
    if source_type not in SOURCE_TYPES:
        raise _fail(f"unknown SourceType {source_type!r} (expected one of {', '.join(SOURCE_TYPES)})")
    if not isinstance(parameters, dict):
        raise _fail("SourceParameters must be an object")
    bucket = _bucket(parameters)
    if source_type == "OSS_OBJECTS":
        items = _objects(store, bucket, parameters)
    else:
        key = _object_name(parameters, store, bucket)
        if source_type == "OSS_CSV":
            items = _csv(store, bucket, key, csv_headers)
        elif source_type == "OSS_JSON_LIST":
            items = _json_list(store, bucket, key)
        else:
            items = _inventory(store, bucket, key)
    if max_items:
        return limit_items(items, max_items)
    return items


# ------------------------------------------------------------------ parameters


def _fail(detail: str) -> FlowError:
    return FlowError(ErrorCodes.ITEM_READER_FAILED, detail)


def _bucket(parameters: dict) -> str:
    bucket = parameters.get("Bucket")
    if not isinstance(bucket, str) or not bucket:
        raise _fail("SourceParameters.Bucket is required and must be a string")
    try:
        return safe_bucket(bucket)
    except UnsafeKey as exc:
        raise _fail(f"SourceParameters.Bucket: {exc}") from None


def _object_name(parameters: dict, store: ObjectStore, bucket: str) -> str:
    key = parameters.get("ObjectName")
    if not isinstance(key, str) or not key:
        raise _fail("SourceParameters.ObjectName is required and must be a string")
    try:
        return safe_key(key)
    except UnsafeKey as exc:
        raise _fail(f"SourceParameters.ObjectName: {exc}") from None


@contextlib.contextmanager
def opened(store: ObjectStore, bucket: str, key: str, fail: Callable[[str], FlowError] | None = None) -> Iterator[CountingStream]:
    """Open an object; store failures, malformed content and corrupt gzip data (``zlib.error`` is
    not an ``OSError``) become the reader error (``fail``) naming the object URL and offset."""
    failure = fail or _fail
    url = format_url(store.scheme, bucket, key)
    try:
        raw = store.open(bucket, key)
    except StoreError as exc:
        raise failure(f"cannot read {url}: {store_reason(exc)}") from None
    stream = CountingStream(raw)
    try:
        yield stream
    except MalformedData as exc:
        raise failure(f"cannot read {url}: {exc}") from None
    except (StoreError, OSError, EOFError, zlib.error) as exc:
        raise failure(f"cannot read {url}: {store_reason(exc)} (byte offset {stream.bytes_read})") from None
    except RecursionError:
        raise failure(f"cannot read {url}: nested too deeply (byte offset {stream.bytes_read})") from None
    finally:
        stream.close()


def store_reason(exc: BaseException) -> str:
    if isinstance(exc, StoreError):
        text = str(exc)
        return text.split(" (", 1)[0] if exc.url else text  # the URL is already in the detail
    return f"{type(exc).__name__}: {exc}"


# ------------------------------------------------------------------ OSS_CSV


def _csv(store: ObjectStore, bucket: str, key: str, headers: Any) -> Iterator[dict[str, str]]:
    given = _given_headers(headers)
    with opened(store, bucket, key) as stream:
        names = given
        for line, row in csv_rows(text_stream(stream)):  # type: ignore[arg-type]
            if names is None:
                names = _header_row(row, line)
                continue
            yield _row_item(names, row, line)


def _given_headers(headers: Any) -> tuple[str, ...] | None:
    if headers is None:
        return None
    if not isinstance(headers, (list, tuple)) or not headers or not all(isinstance(h, str) for h in headers):
        raise _fail("ReaderConfig.CSVHeaders must be a non-empty list of strings")
    dup = _duplicate(headers)
    if dup is not None:
        raise _fail(f"duplicate CSV header {dup!r} in ReaderConfig.CSVHeaders")
    return tuple(headers)


def _header_row(row: list[str], line: int) -> tuple[str, ...]:
    dup = _duplicate(row)
    if dup is not None:
        raise MalformedData(f"duplicate CSV header {dup!r}", f"line {line}")
    return tuple(row)


def _duplicate(names: Any) -> str | None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return name
        seen.add(name)
    return None


def _row_item(names: tuple[str, ...], row: list[str], line: int) -> dict[str, str]:
    """A row must have exactly one field per header (as Go's encoding/csv requires)."""
    if len(row) != len(names):
        raise MalformedData(f"row has {len(row)} fields, expected {len(names)}", f"line {line}")
    return dict(zip(names, row))


# ------------------------------------------------------------------ OSS_JSON_LIST


def _json_list(store: ObjectStore, bucket: str, key: str) -> Iterator[Any]:
    with opened(store, bucket, key) as stream:
        yield from JsonArrayScanner(stream)  # type: ignore[arg-type]


# ------------------------------------------------------------------ OSS_OBJECTS


def _objects(store: ObjectStore, bucket: str, parameters: dict) -> Iterator[dict[str, Any]]:
    prefix = parameters.get("Prefix", "")
    if prefix is None:
        prefix = ""
    if not isinstance(prefix, str):
        raise _fail("SourceParameters.Prefix must be a string")
    try:
        safe_key(prefix, allow_empty=True)
    except UnsafeKey as exc:
        raise _fail(f"SourceParameters.Prefix: {exc}") from None
    url = format_url(store.scheme, bucket, prefix)
    try:
        for info in store.list(bucket, prefix):
            yield object_item(info)
    except StoreError as exc:
        raise _fail(f"cannot list {url}: {store_reason(exc)}") from None


def object_item(info: ObjectInfo) -> dict[str, Any]:
    """The seed's item: the Go OSS SDK's ObjectProperties serialised as JSON."""
    modified = info.last_modified
    return {
        "XMLName": {"Space": "", "Local": "Contents"},
        "Key": info.key,
        "Type": info.object_type or "Normal",
        "Size": int(info.size),
        "ETag": info.etag,
        "Owner": {"XMLName": {"Space": "", "Local": ""}, "ID": "", "DisplayName": ""},
        "LastModified": modified.strftime("%Y-%m-%dT%H:%M:%SZ") if modified else "0001-01-01T00:00:00Z",
        "StorageClass": info.storage_class or "Standard",
        "RestoreInfo": "",
    }


# ------------------------------------------------------------------ OSS_INVENTORY_FILES


def _inventory(store: ObjectStore, bucket: str, key: str) -> Iterator[dict[str, str]]:
    url = format_url(store.scheme, bucket, key)
    with opened(store, bucket, key) as stream:
        raw = stream.read(MAX_MANIFEST_BYTES + 1)
    if len(raw) > MAX_MANIFEST_BYTES:
        raise _fail(f"cannot read {url}: inventory manifest larger than {MAX_MANIFEST_BYTES} bytes")
    destination, schema, files = parse_manifest(raw, url, bucket)
    for data_key in files:
        with opened(store, destination, data_key) as data:
            for line, row in csv_rows(text_stream(maybe_gunzip(data))):  # type: ignore[arg-type]
                yield _row_item(schema, row, line)


def parse_manifest(raw: bytes, url: str, bucket: str) -> tuple[str, tuple[str, ...], list[str]]:
    def bad(why: str) -> FlowError:
        return _fail(f"cannot read {url}: invalid inventory manifest: {why}")

    try:
        manifest = json.loads(raw.decode("utf-8-sig"), parse_constant=reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError, NaN/Infinity
        raise bad(f"not JSON ({exc})") from None
    except RecursionError:
        raise bad("not JSON (nested too deeply)") from None
    if not isinstance(manifest, dict):
        raise bad("not a JSON object")
    file_format = manifest.get("fileFormat", "CSV")
    if file_format != "CSV":
        raise bad(f"fileFormat {file_format!r} is not supported (only CSV)")
    schema = manifest.get("fileSchema")
    if not isinstance(schema, str) or not schema.strip():
        raise bad("fileSchema is missing")
    names = tuple(part.strip() for part in schema.split(","))
    if any(not n for n in names) or len(set(names)) != len(names):
        raise bad(f"fileSchema {schema!r} has empty or duplicate column names")
    destination = manifest.get("destinationBucket", bucket)
    if not isinstance(destination, str):
        raise bad("destinationBucket must be a string")
    destination = destination.rsplit(":::", 1)[-1]  # "acs:oss:::name" / "arn:aws:s3:::name" -> "name"
    if destination != bucket:
        raise bad(f"destinationBucket {destination!r} differs from the manifest's bucket {bucket!r}")
    files = manifest.get("files")
    if not isinstance(files, list):
        raise bad("'files' must be a list")
    keys = []
    for i, entry in enumerate(files):
        key = entry.get("key") if isinstance(entry, dict) else None
        try:
            keys.append(safe_key(key))  # type: ignore[arg-type]
        except UnsafeKey as exc:
            raise bad(f"files[{i}].key: {exc}") from None
    return destination, names, keys
