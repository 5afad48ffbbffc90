"""``OSS:GetObject``, ``OSS:PutObject``, ``OSS:CopyObject``, ``OSS:HeadObject``, ``OSS:ListObjects``
through the interpreter's object stores (the ``oss`` store of a ``StoreResolver``), and the same
operations for S3 (ASL ``s3:*`` / ``aws-sdk:s3:*``, in ``aws.py``) on the ``s3`` store.

cloudflow-language §4.7: "RequestComplete only. ``region`` defaults to the flow's region. GetObject
parameters: ``bucket`` (req), ``key`` (req), ``region``, ``versionId``, ``range`` (e.g. ``1024-``),
``ifMatch``, ``ifNoneMatch``"; "Output begins ``{"bucket":"…","key":"…",…}``; the rest was cut off";
"The page also covers writing, copying and deleting objects … The exact action names were not captured."

Decisions (docs/integrations.md): the connection's region is used (``region`` is accepted and
ignored); ``versionId``/``ifMatch``/``ifNoneMatch`` are refused rather than silently ignored;
``DeleteObject`` is not offered (the store interface has no delete). Every bucket and key is
validated (``storage.urls``): a key cannot climb out of its bucket. Object bodies are UTF-8 text
(``content``); a JSON object body written by PutObject is JSON-encoded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Union

from ..exceptions import AccessDenied, FlowError, NoSuchBucket, NoSuchObject, StoreError
from ..storage.base import ObjectInfo
from ..storage.urls import safe_bucket, safe_key
from ..runtime.ports import TaskCall

StoresSource = Union[Any, Callable[[], Any]]
"""A ``StoreResolver`` or a zero-argument factory returning one (called on first use)."""
MAX_GET_BYTES = 8 * 1024 * 1024
"""GetObject reads at most this many bytes into the state (state I/O is small by design)."""
OPERATIONS = ("GetObject", "PutObject", "CopyObject", "HeadObject", "ListObjects")


def store_for(stores: StoresSource, scheme: str):
    resolver = stores() if callable(stores) and not hasattr(stores, "for_scheme") else stores
    if resolver is None:
        raise StoreError(f"no object stores configured for {scheme}:// (set the {scheme} connection)")
    return resolver.for_scheme(scheme)


def store_error(exc: StoreError, service: str) -> FlowError:
    """A store failure as a Task error: ``OSS.NoSuchKey``, ``OSS.NoSuchBucket``, ``OSS.AccessDenied``,
    ``OSS.InvalidArgument`` (unsafe key), else ``OSS.ServiceError``."""
    from ..storage.urls import UnsafeKey

    kind = {NoSuchObject: "NoSuchKey", NoSuchBucket: "NoSuchBucket", AccessDenied: "AccessDenied",
            UnsafeKey: "InvalidArgument"}.get(type(exc), "ServiceError")
    return FlowError(f"{service}.{kind}", str(exc))


def parse_range(text: Any, size_hint: int | None = None) -> tuple[int, int | None]:
    """``"1024-"`` → (1024, None); ``"0-99"`` → (0, 99) inclusive, as HTTP ``Range`` bytes."""
    if not isinstance(text, str) or "-" not in text:
        raise FlowError("OSS.InvalidArgument", f"range must look like 'START-' or 'START-END', got {text!r}")
    start, _, end = text.partition("-")
    try:
        first = int(start)
        last = int(end) if end else None
    except ValueError:
        raise FlowError("OSS.InvalidArgument", f"range must look like 'START-' or 'START-END', got {text!r}") from None
    if first < 0 or (last is not None and last < first):
        raise FlowError("OSS.InvalidArgument", f"invalid range {text!r}")
    return first, last


def read_object(store, bucket: str, key: str, byte_range: tuple[int, int | None] | None = None) -> bytes:
    first, last = byte_range or (0, None)
    with store.open(bucket, key) as stream:
        if first:
            remaining = first
            while remaining > 0:
                chunk = stream.read(min(remaining, 1 << 20))
                if not chunk:
                    break
                remaining -= len(chunk)
        limit = MAX_GET_BYTES if last is None else min(last - first + 1, MAX_GET_BYTES)
        data = stream.read(limit + (1 if last is None else 0))
    if last is None and len(data) > MAX_GET_BYTES:
        raise FlowError("OSS.EntityTooLarge", f"object larger than {MAX_GET_BYTES} bytes; read it with a Map ItemReader")
    return data


def body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def info_json(info: ObjectInfo) -> dict[str, Any]:
    return {
        "bucket": info.bucket, "key": info.key, "contentLength": info.size, "etag": info.etag,
        "lastModified": info.last_modified.isoformat() if info.last_modified else None,
        "storageClass": info.storage_class,
    }


def _text(value: Any, name: str, service: str) -> str:
    if not isinstance(value, str) or not value:
        raise FlowError(f"{service}.InvalidArgument", f"'{name}' must be a non-empty string")
    return value


@dataclass(frozen=True)
class OssAction:
    """One ``OSS:<operation>`` runner."""

    operation: str
    stores: StoresSource

    def __call__(self, call: TaskCall) -> dict[str, Any]:
        params = call.parameters if isinstance(call.parameters, dict) else {}
        for unsupported in ("versionId", "ifMatch", "ifNoneMatch"):
            if params.get(unsupported) is not None:
                raise FlowError("OSS.InvalidArgument", f"OSS:{self.operation}: '{unsupported}' is not supported here")
        try:
            store = store_for(self.stores, "oss")
            return getattr(self, "_" + self.operation)(store, params)
        except StoreError as exc:
            error = store_error(exc, "OSS")
            error.state = call.state_name or None
            raise error from None

    def _bucket_key(self, params: dict, bucket: str = "bucket", key: str = "key") -> tuple[str, str]:
        return safe_bucket(_text(params.get(bucket), bucket, "OSS")), safe_key(_text(params.get(key), key, "OSS"))

    def _GetObject(self, store, params: dict) -> dict[str, Any]:
        bucket, key = self._bucket_key(params)
        rng = parse_range(params["range"]) if params.get("range") is not None else None
        data = read_object(store, bucket, key, rng)
        info = store.head(bucket, key)
        return {**info_json(info), "content": data.decode("utf-8", errors="replace"), "contentLength": len(data)}

    def _PutObject(self, store, params: dict) -> dict[str, Any]:
        bucket, key = self._bucket_key(params)
        store.put(bucket, key, body_bytes(params.get("body", params.get("content"))))
        return info_json(store.head(bucket, key))

    def _CopyObject(self, store, params: dict) -> dict[str, Any]:
        source = (safe_bucket(_text(params.get("sourceBucket") or params.get("bucket"), "sourceBucket", "OSS")),
                  safe_key(_text(params.get("sourceKey"), "sourceKey", "OSS")))
        bucket, key = self._bucket_key(params, "bucket", "key")
        store.put(bucket, key, read_object(store, *source))
        return info_json(store.head(bucket, key))

    def _HeadObject(self, store, params: dict) -> dict[str, Any]:
        return info_json(store.head(*self._bucket_key(params)))

    def _ListObjects(self, store, params: dict) -> dict[str, Any]:
        bucket = safe_bucket(_text(params.get("bucket"), "bucket", "OSS"))
        prefix = safe_key(params.get("prefix") or "", allow_empty=True)
        start_after = params.get("startAfter") or params.get("marker") or None
        limit = params.get("maxKeys", 100)
        if not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise FlowError("OSS.InvalidArgument", "maxKeys must be an integer 1-1000")
        objects: list[dict[str, Any]] = []
        truncated = False
        for info in store.list(bucket, prefix, start_after):
            if len(objects) == limit:
                truncated = True
                break
            objects.append(info_json(info))
        return {"bucket": bucket, "prefix": prefix, "objects": objects, "isTruncated": truncated,
                "nextStartAfter": objects[-1]["key"] if truncated else None}
