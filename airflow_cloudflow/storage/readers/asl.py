"""AWS Step Functions ``ItemReader`` for a distributed Map (asl-distributed-map.md §2.2, §5).

* ``arn:aws:states:::s3:getObject`` with ``ReaderConfig.InputType``:
  ``CSV`` (``CSVHeaderLocation`` FIRST_ROW | GIVEN + ``CSVHeaders``; ``CSVDelimiter`` COMMA | PIPE |
  SEMICOLON | SPACE | TAB), ``JSON`` (one array), ``JSONL`` (one value per line), ``MANIFEST`` (an S3
  inventory ``manifest.json`` -> gzip CSV data files). gzip objects are decompressed on the fly.
  ``PARQUET`` (one item per row, ``readers/parquet.py``, the optional extra). Without a ReaderConfig
  (or without ``InputType``) the object is read as ``JSON`` [INFERRED: the form of AWS's first JSON
  examples and CDK's ``S3JsonItemReader``]. ``ItemsPointer`` (JSON only): "a JSON Pointer such as
  ``/inventory/products/featured`` that selects a nested array inside the file"; the file is then
  read whole, up to ``MAX_POINTER_BYTES``.
* ``arn:aws:states:::s3:listObjectsV2``: items ``{Etag, Key, LastModified, Size, StorageClass}``
  (``LastModified`` in epoch seconds, "The key is spelt ``Etag``"). With ``Transformation:
  LOAD_AND_FLATTEN`` "each listed object is read and its rows or records become the items", parsed
  by ``InputType``; ``MaxItems`` then counts those items. Zero-byte keys ending in ``/`` (console
  "folders") are skipped there [INFERRED].

CSV (§5): "Every value is a string"; "A row with fewer fields than the header gets "" for the
missing ones. A row with more fields drops the extras"; "A whitespace-only line is not skipped";
backslash escapes the next character; "Duplicate GIVEN headers fail the reader".

Errors: ``FlowError("States.ItemReaderFailed", cause)`` with AWS's recorded causes where known.
"""

from __future__ import annotations

import io
from typing import Any, Iterator

from ...exceptions import FlowError, StoreError
from ..base import ObjectStore
from ..urls import UnsafeKey, format_url, safe_bucket, safe_key
from .cloudflow import MAX_MANIFEST_BYTES, opened, parse_manifest, store_reason
from . import streams
from .streams import (
    JsonArrayScanner,
    MalformedData,
    NotAnArray,
    decode_json,
    limit_items,
    maybe_gunzip,
    text_stream,
)

ITEM_READER_FAILED = "States.ItemReaderFailed"
GET_OBJECT = "arn:aws:states:::s3:getObject"
LIST_OBJECTS_V2 = "arn:aws:states:::s3:listObjectsV2"
MAX_ITEMS_CAP = 100_000_000
DELIMITERS = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}

CAUSE_DUPLICATE_HEADERS = "CSV headers cannot contain duplicates."
CAUSE_NOT_ITERABLE = "Attempting to map over non-iterable node."
CAUSE_MAX_ITEMS_NEGATIVE = "field MaxItems must be positive"
INPUT_TYPES = ("CSV", "JSON", "JSONL", "PARQUET", "MANIFEST")
LOAD_AND_FLATTEN = "LOAD_AND_FLATTEN"
MAX_POINTER_BYTES = 256 * 1024 * 1024


def _fail(cause: str) -> FlowError:
    return FlowError(ITEM_READER_FAILED, cause)


def read_items(
    store: ObjectStore,
    resource: str,
    parameters: dict,
    reader_config: dict | None,
    *,
    max_items: int | None = None,
) -> Iterator[Any]:
    """Stream the items of an ASL ItemReader; ``max_items`` None/0 = no limit (capped at 100,000,000)."""
    config = reader_config or {}
    if max_items is not None and (not isinstance(max_items, int) or max_items < 0):
        raise _fail(CAUSE_MAX_ITEMS_NEGATIVE)
    limit = min(max_items or MAX_ITEMS_CAP, MAX_ITEMS_CAP)
    if not isinstance(parameters, dict):
        raise _fail("ItemReader Parameters must be an object")
    bucket = _param(parameters, "Bucket")
    try:
        safe_bucket(bucket)
    except UnsafeKey as exc:
        raise _fail(str(exc)) from None
    if "VersionId" in parameters:
        raise _fail("ItemReader Parameters.VersionId is not supported")
    if resource == LIST_OBJECTS_V2:
        items = _list_objects(store, bucket, parameters.get("Prefix") or "")
        if config.get("Transformation", "NONE") == LOAD_AND_FLATTEN:
            items = _load_and_flatten(store, bucket, items, config)
    elif resource == GET_OBJECT:
        key = _param(parameters, "Key")
        try:
            safe_key(key)
        except UnsafeKey as exc:
            raise _fail(str(exc)) from None
        items = _get_object(store, bucket, key, config)
    else:
        raise _fail(f"unsupported ItemReader Resource {resource!r}")
    return limit_items(items, limit)


def _param(parameters: dict, name: str) -> str:
    value = parameters.get(name)
    if not isinstance(value, str) or not value:
        raise _fail(f"ItemReader Parameters.{name} is required and must be a string")
    return value


def _get_object(store: ObjectStore, bucket: str, key: str, config: dict) -> Iterator[Any]:
    default = "MANIFEST" if config.get("ManifestType") == "S3_INVENTORY" else "JSON"  # "S3_INVENTORY: CSV is implied"
    input_type = config.get("InputType") or default
    if "ItemsPointer" in config:
        if input_type != "JSON":
            raise _fail("ReaderConfig.ItemsPointer applies to InputType JSON only")
        yield from _pointed(store, bucket, key, config["ItemsPointer"])
    elif input_type == "PARQUET":
        from .parquet import parquet_items

        yield from parquet_items(store, bucket, key, _fail)
    elif input_type == "CSV":
        headers = _csv_headers(config)
        delimiter = _delimiter(config)
        with opened(store, bucket, key, _fail) as stream:
            yield from csv_items(text_stream(maybe_gunzip(stream)), headers, delimiter)  # type: ignore[arg-type]
    elif input_type == "JSON":
        with opened(store, bucket, key, _fail) as stream:
            try:
                yield from JsonArrayScanner(maybe_gunzip(stream))  # type: ignore[arg-type]
            except NotAnArray:
                raise _fail(CAUSE_NOT_ITERABLE) from None
    elif input_type == "JSONL":
        with opened(store, bucket, key, _fail) as stream:
            yield from _jsonl(text_stream(maybe_gunzip(stream)))  # type: ignore[arg-type]
    elif input_type == "MANIFEST":
        yield from _manifest(store, bucket, key, config)
    else:
        raise _fail(f"unsupported ReaderConfig.InputType {input_type!r} ({', '.join(INPUT_TYPES)})")


def _load_and_flatten(store: ObjectStore, bucket: str, listed: Iterator[dict[str, Any]], config: dict) -> Iterator[Any]:
    """``LOAD_AND_FLATTEN``: the items of every listed object, object after object."""
    if config.get("InputType") in (None, "MANIFEST"):
        raise _fail("Transformation LOAD_AND_FLATTEN needs ReaderConfig.InputType CSV, JSON, JSONL or PARQUET")
    for entry in listed:
        if entry["Key"].endswith("/") and entry["Size"] == 0:
            continue
        yield from _get_object(store, bucket, entry["Key"], config)


def _pointed(store: ObjectStore, bucket: str, key: str, pointer: Any) -> Iterator[Any]:
    """The array at RFC 6901 ``pointer`` inside the JSON object."""
    if not isinstance(pointer, str) or (pointer and not pointer.startswith("/")):
        raise _fail(f"ReaderConfig.ItemsPointer must be a JSON Pointer such as '/a/b', got {pointer!r}")
    url = format_url(store.scheme, bucket, key)
    with opened(store, bucket, key, _fail) as stream:
        raw = maybe_gunzip(stream).read(MAX_POINTER_BYTES + 1)
    if len(raw) > MAX_POINTER_BYTES:
        raise _fail(f"cannot read {url}: larger than {MAX_POINTER_BYTES} bytes, the limit with ItemsPointer")
    try:
        node = decode_json(raw.decode("utf-8-sig"), url, "malformed JSON")
    except UnicodeDecodeError:
        raise _fail(f"cannot read {url}: the object is not UTF-8 text") from None
    except MalformedData as exc:
        raise _fail(f"cannot read {url}: {exc}") from None
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise _fail(f"ItemsPointer {pointer!r} selects nothing in {url}")
    if not isinstance(node, list):
        raise _fail(CAUSE_NOT_ITERABLE)
    yield from node


# ------------------------------------------------------------------ CSV


def _csv_headers(config: dict) -> tuple[str, ...] | None:
    location = config.get("CSVHeaderLocation", "FIRST_ROW")
    if location == "FIRST_ROW":
        return None
    if location != "GIVEN":
        raise _fail(f"unsupported CSVHeaderLocation {location!r} (FIRST_ROW or GIVEN)")
    headers = config.get("CSVHeaders")
    if not isinstance(headers, list) or not headers or not all(isinstance(h, str) for h in headers):
        raise _fail("CSVHeaders must be a non-empty array of strings when CSVHeaderLocation is GIVEN")
    if len(set(headers)) != len(headers):
        raise _fail(CAUSE_DUPLICATE_HEADERS)
    return tuple(headers)


def _delimiter(config: dict) -> str:
    name = config.get("CSVDelimiter", "COMMA")
    if name not in DELIMITERS:
        raise _fail(f"unsupported CSVDelimiter {name!r} ({', '.join(DELIMITERS)})")
    return DELIMITERS[name]


def csv_items(text: io.TextIOBase, headers: tuple[str, ...] | None, delimiter: str = ",") -> Iterator[dict[str, str]]:
    """AWS CSV rules: strings only, short rows padded with "", long rows truncated, whitespace lines
    kept, empty lines (and the trailing newline) add no item, ``\\`` escapes the next character."""
    names = headers
    width = len(names) if names else 0
    rows = streams.csv_rows(text, delimiter=delimiter, skip_blank=False,
                            quotechar='"', escapechar="\\", doublequote=True, strict=False)
    for _line, row in rows:
        if not row:
            continue
        if names is None:
            if len(set(row)) != len(row):
                raise _fail(CAUSE_DUPLICATE_HEADERS)
            names, width = tuple(row), len(row)
            continue
        if len(row) < width:
            row = row + [""] * (width - len(row))
        yield dict(zip(names, row))


# ------------------------------------------------------------------ JSONL


def _jsonl(text: io.TextIOBase) -> Iterator[Any]:
    """One JSON value per line; blank lines add no item. A line may hold at most
    ``MAX_ELEMENT_CHARS`` characters (a huge object without newlines is not loaded whole)."""
    limit = streams.MAX_ELEMENT_CHARS
    number = 0
    while True:
        number += 1
        try:
            line = text.readline(limit + 1)
        except UnicodeDecodeError:
            raise MalformedData("the object is not UTF-8 text", f"line {number}") from None
        if not line:
            return
        if len(line) > limit:
            raise MalformedData(f"a JSON Lines line is longer than {limit} characters", f"line {number}")
        if not line.strip():
            continue
        yield decode_json(line, f"line {number}", "malformed JSON Lines")


# ------------------------------------------------------------------ MANIFEST (S3 inventory)


def _manifest(store: ObjectStore, bucket: str, key: str, config: dict) -> Iterator[dict[str, str]]:
    url = format_url(store.scheme, bucket, key)
    with opened(store, bucket, key, _fail) as stream:
        raw = stream.read(MAX_MANIFEST_BYTES + 1)
    if len(raw) > MAX_MANIFEST_BYTES:
        raise _fail(f"cannot read {url}: manifest larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        destination, schema, files = parse_manifest(raw, url, bucket)
    except FlowError as exc:
        raise _fail(exc.detail or "invalid manifest") from None
    names = _csv_headers(config) if config.get("CSVHeaderLocation") == "GIVEN" else schema
    for data_key in files:
        with opened(store, destination, data_key, _fail) as data:
            yield from csv_items(text_stream(maybe_gunzip(data)), names)  # type: ignore[arg-type]


# ------------------------------------------------------------------ listObjectsV2


def _list_objects(store: ObjectStore, bucket: str, prefix: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(prefix, str):
        raise _fail("ItemReader Parameters.Prefix must be a string")
    try:
        safe_key(prefix, allow_empty=True)
    except UnsafeKey as exc:
        raise _fail(str(exc)) from None
    try:
        for info in store.list(bucket, prefix):
            yield {
                "Etag": info.etag,
                "Key": info.key,
                "LastModified": int(info.last_modified.timestamp()) if info.last_modified else 0,
                "Size": int(info.size),
                "StorageClass": (info.storage_class or "STANDARD").upper(),
            }
    except StoreError as exc:
        raise _fail(f"cannot list {format_url(store.scheme, bucket, prefix)}: {store_reason(exc)}") from None
