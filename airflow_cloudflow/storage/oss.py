"""``OssStore``: Alibaba Cloud OSS through oss2 (auth v1 or v4).

Listing pages with ``list_objects_v2`` (``page_size`` keys per request); ``put`` goes up in parts
above ``multipart_threshold``; transient faults are retried (``retry.py``); NoSuchBucket/NoSuchKey/
AccessDenied map to our exceptions and are never retried. Secrets are kept inside the oss2 auth
object only and never appear in ``repr`` or errors.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, BinaryIO, Iterator

import oss2
from oss2 import exceptions as oe

from ..exceptions import AccessDenied, NoSuchBucket, NoSuchObject, StoreError
from .base import ObjectInfo
from .connections import OssConnection
from .retry import RetryPolicy, call_with_retry, is_transient
from .s3 import server_code
from .sdkstream import Body, SdkStream, content_range_start
from .urls import format_url, safe_bucket, safe_key

MULTIPART_THRESHOLD = 8 * 1024 * 1024
PART_SIZE = 8 * 1024 * 1024


def translate_oss_error(exc: BaseException, url: str, secrets: tuple[str, ...] = ()) -> StoreError:
    """oss2 exception -> our ``StoreError`` subclass (never quoting request headers; the server's
    code masked)."""
    if isinstance(exc, StoreError):
        return exc
    if isinstance(exc, oe.OssError):
        code, status = server_code(str(getattr(exc, "code", "") or ""), secrets), getattr(exc, "status", None)
        if code == "NoSuchBucket":
            return NoSuchBucket("bucket does not exist", url=url)
        if code == "NoSuchKey" or (status == 404 and not code):
            return NoSuchObject("object does not exist", url=url)
        if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch") or status == 403:
            return AccessDenied(f"access denied ({code or status})", url=url)
        if isinstance(exc, oe.RequestError) or status in (-2,):
            return StoreError(f"connection failed ({type(getattr(exc, 'exception', exc)).__name__})", url=url, retriable=True)
        return StoreError(f"OSS error {code or 'unknown'} (HTTP {status})", url=url, retriable=is_transient(status, code))
    if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
        return StoreError(f"connection failed ({type(exc).__name__})", url=url, retriable=True)
    return StoreError(f"OSS request failed ({type(exc).__name__})", url=url, retriable=False)


class OssStore:
    """Object storage on Alibaba Cloud OSS (or anything speaking its protocol)."""

    scheme = "oss"

    def __init__(
        self,
        endpoint: str,
        access_key_id: str,
        access_key_secret: str,
        region: str | None = None,
        auth_version: str = "v4",
        *,
        page_size: int = 1000,
        multipart_threshold: int = MULTIPART_THRESHOLD,
        part_size: int = PART_SIZE,
        retry: RetryPolicy = RetryPolicy(),
        connect_timeout: float = 30,
    ):
        if auth_version == "v4":
            if not region:
                raise StoreError("OSS auth v4 needs a region")
            self._auth: Any = oss2.AuthV4(access_key_id, access_key_secret)
        elif auth_version == "v1":
            self._auth = oss2.Auth(access_key_id, access_key_secret)
        else:
            raise StoreError(f"unknown OSS auth version {auth_version!r} (v1 or v4)")
        self.endpoint = endpoint
        self.region = region
        self.auth_version = auth_version
        self.page_size = page_size
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        self.retry = retry
        self.connect_timeout = connect_timeout
        self._secrets = (access_key_id, access_key_secret)
        self._session = oss2.Session()
        self._buckets: dict[str, oss2.Bucket] = {}

    def __repr__(self) -> str:
        return f"OssStore(endpoint={self.endpoint!r}, region={self.region!r}, auth_version={self.auth_version!r})"

    @classmethod
    def from_connection(cls, conn: OssConnection, **kwargs: Any) -> "OssStore":
        endpoint = conn.resolved_endpoint
        if not endpoint:
            raise StoreError("the OSS connection gives neither an endpoint nor a region")
        return cls(endpoint, conn.access_key_id, conn.access_key_secret, conn.region, conn.auth_version, **kwargs)

    def _bucket(self, bucket: str) -> oss2.Bucket:
        client = self._buckets.get(bucket)
        if client is None:
            client = oss2.Bucket(
                self._auth,
                self.endpoint,
                safe_bucket(bucket),
                session=self._session,
                connect_timeout=self.connect_timeout,
                region=self.region,
            )
            self._buckets[bucket] = client
        return client

    def _call(self, fn, url: str):
        def attempt():
            try:
                return fn()
            except Exception as exc:
                raise translate_oss_error(exc, url, self._secrets) from None

        return call_with_retry(attempt, self.retry)

    # ------------------------------------------------------------------ protocol

    def open(self, bucket: str, key: str) -> BinaryIO:
        url = format_url(self.scheme, bucket, safe_key(key))
        client = self._bucket(bucket)

        def fetch(offset: int, etag: str) -> Body:
            if offset:
                result = client.get_object(key, byte_range=(offset, None), headers={"If-Match": etag} if etag else None)
            else:
                result = client.get_object(key)
            start = content_range_start(result.headers.get("Content-Range"))
            return Body(result.read, result.resp.response.close, result.headers.get("ETag", ""), start)

        body = self._call(lambda: fetch(0, ""), url)
        return SdkStream(body, lambda e: translate_oss_error(e, url, self._secrets), fetch=fetch, retry=self.retry)  # type: ignore[return-value]

    def put(self, bucket: str, key: str, data: bytes) -> None:
        url = format_url(self.scheme, bucket, safe_key(key))
        client = self._bucket(bucket)
        if len(data) <= self.multipart_threshold:
            self._call(lambda: client.put_object(key, data), url)
            return
        upload_id = self._call(lambda: client.init_multipart_upload(key).upload_id, url)
        try:
            parts = []
            view = memoryview(data)
            for number, start in enumerate(range(0, len(data), self.part_size), start=1):
                chunk = bytes(view[start : start + self.part_size])
                result = self._call(lambda: client.upload_part(key, upload_id, number, chunk), url)
                parts.append(oss2.models.PartInfo(number, result.etag))
            self._call(lambda: client.complete_multipart_upload(key, upload_id, parts), url)
        except BaseException:
            try:
                client.abort_multipart_upload(key, upload_id)
            except Exception:
                pass
            raise

    def copy(self, bucket: str, key: str, to_bucket: str, to_key: str) -> None:
        """Server-side ``CopyObject`` (objects up to 1 GiB: result files are a few MiB)."""
        url = format_url(self.scheme, to_bucket, safe_key(to_key))
        client = self._bucket(to_bucket)
        source_bucket, source_key = safe_bucket(bucket), safe_key(key)
        self._call(lambda: client.copy_object(source_bucket, source_key, to_key), url)

    def list(self, bucket: str, prefix: str = "", start_after: str | None = None) -> Iterator[ObjectInfo]:
        url = format_url(self.scheme, bucket, safe_key(prefix, allow_empty=True))
        client = self._bucket(bucket)
        token = ""
        while True:
            result = self._call(
                lambda: client.list_objects_v2(
                    prefix=prefix, continuation_token=token, start_after=start_after or "", max_keys=self.page_size
                ),
                url,
            )
            for obj in result.object_list:
                yield ObjectInfo(
                    bucket=bucket,
                    key=obj.key,
                    size=int(obj.size),
                    etag=f'"{obj.etag}"',
                    last_modified=datetime.fromtimestamp(obj.last_modified, tz=timezone.utc),
                    storage_class=obj.storage_class or "Standard",
                    object_type=obj.type or "Normal",
                )
            if not result.is_truncated or not result.next_continuation_token:
                return
            token = result.next_continuation_token

    def head(self, bucket: str, key: str) -> ObjectInfo:
        url = format_url(self.scheme, bucket, safe_key(key))
        client = self._bucket(bucket)
        result = self._call(lambda: client.head_object(key), url)
        return ObjectInfo(
            bucket=bucket,
            key=key,
            size=int(result.content_length or 0),
            etag=f'"{result.etag}"',
            last_modified=datetime.fromtimestamp(result.last_modified, tz=timezone.utc) if result.last_modified else None,
            storage_class=result.headers.get("x-oss-storage-class", "Standard"),
            object_type=result.object_type or "Normal",
        )

    def create_bucket(self, bucket: str) -> None:
        """Create a bucket (tests and demos)."""
        client = self._bucket(bucket)
        self._call(lambda: client.create_bucket(), format_url(self.scheme, bucket))
