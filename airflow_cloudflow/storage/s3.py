"""``S3Store``: Amazon S3 (or any S3-compatible endpoint) through boto3.

botocore's own retries are switched off (one attempt) so ``retry.py`` owns the policy; listing pages
with ``list_objects_v2`` (``page_size`` keys per request); ``put`` goes up in parts above
``multipart_threshold`` (S3's minimum part is 5 MiB). Secrets stay inside the boto3 client.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, BinaryIO, Iterator

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ..exceptions import AccessDenied, NoSuchBucket, NoSuchObject, StoreError
from ..masking import client_secrets, mask_secrets
from .base import ObjectInfo
from .connections import S3Connection
from .retry import RetryPolicy, call_with_retry, is_transient
from .sdkstream import Body, SdkStream, content_range_start
from .urls import format_url, safe_bucket, safe_key

MULTIPART_THRESHOLD = 8 * 1024 * 1024
PART_SIZE = 8 * 1024 * 1024


MAX_CODE_CHARS = 64


def server_code(code: str, secrets: tuple[str, ...] = ()) -> str:
    """An error code as the server sent it, masked and cut short (it is remote text in an error)."""
    return mask_secrets(code, secrets)[:MAX_CODE_CHARS]


def translate_s3_error(exc: BaseException, url: str, secrets: tuple[str, ...] = ()) -> StoreError:
    """botocore exception -> our ``StoreError`` subclass (no request details; the server's code masked)."""
    if isinstance(exc, StoreError):
        return exc
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = server_code(str(error.get("Code", "")), secrets)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code == "NoSuchBucket":
            return NoSuchBucket("bucket does not exist", url=url)
        if code in ("NoSuchKey", "404", "NotFound"):
            return NoSuchObject("object does not exist", url=url)
        if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden"):
            return AccessDenied(f"access denied ({code})", url=url)
        return StoreError(f"S3 error {code or 'unknown'} (HTTP {status})", url=url, retriable=is_transient(status, code))
    if isinstance(exc, (BotoCoreError, ConnectionError, TimeoutError, OSError)):
        return StoreError(f"connection failed ({type(exc).__name__})", url=url, retriable=True)
    return StoreError(f"S3 request failed ({type(exc).__name__})", url=url, retriable=False)


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(timezone.utc) if moment is not None else None


class S3Store:
    """Object storage on S3."""

    scheme = "s3"

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        page_size: int = 1000,
        multipart_threshold: int = MULTIPART_THRESHOLD,
        part_size: int = PART_SIZE,
        retry: RetryPolicy = RetryPolicy(),
    ):
        config = Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            s3={"addressing_style": "path"} if endpoint_url else {},
        )
        self._client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region_name,
            aws_access_key_id=aws_access_key_id,
            aws_secret_access_key=aws_secret_access_key,
            aws_session_token=aws_session_token,
            config=config,
        )
        self.endpoint_url = endpoint_url
        self.region_name = region_name
        self.page_size = page_size
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        self.retry = retry
        self._secrets = client_secrets(self._client)

    def __repr__(self) -> str:
        return f"S3Store(endpoint_url={self.endpoint_url!r}, region_name={self.region_name!r})"

    @classmethod
    def from_connection(cls, conn: S3Connection, **kwargs: Any) -> "S3Store":
        return cls(
            endpoint_url=conn.endpoint_url,
            region_name=conn.region_name,
            aws_access_key_id=conn.access_key_id,
            aws_secret_access_key=conn.secret_access_key,
            aws_session_token=conn.session_token,
            **kwargs,
        )

    def _call(self, fn, url: str):
        def attempt():
            try:
                return fn()
            except Exception as exc:
                raise translate_s3_error(exc, url, self._secrets) from None

        return call_with_retry(attempt, self.retry)

    # ------------------------------------------------------------------ protocol

    def open(self, bucket: str, key: str) -> BinaryIO:
        """A stream that resumes with a ranged GET after a mid-body fault (``sdkstream.py``)."""
        url = format_url(self.scheme, safe_bucket(bucket), safe_key(key))

        def fetch(offset: int, etag: str) -> Body:
            extra = {"Range": f"bytes={offset}-", **({"IfMatch": etag} if etag else {})} if offset else {}
            response = self._client.get_object(Bucket=bucket, Key=key, **extra)
            stream = response["Body"]
            return Body(stream.read, stream.close, response.get("ETag", ""), content_range_start(response.get("ContentRange")))

        body = self._call(lambda: fetch(0, ""), url)
        return SdkStream(body, lambda e: translate_s3_error(e, url, self._secrets), fetch=fetch, retry=self.retry)  # type: ignore[return-value]

    def put(self, bucket: str, key: str, data: bytes) -> None:
        url = format_url(self.scheme, safe_bucket(bucket), safe_key(key))
        client = self._client
        if len(data) <= self.multipart_threshold:
            self._call(lambda: client.put_object(Bucket=bucket, Key=key, Body=data), url)
            return
        upload_id = self._call(lambda: client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"], url)
        try:
            parts = []
            view = memoryview(data)
            for number, start in enumerate(range(0, len(data), self.part_size), start=1):
                chunk = bytes(view[start : start + self.part_size])
                etag = self._call(
                    lambda: client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=chunk)["ETag"],
                    url,
                )
                parts.append({"PartNumber": number, "ETag": etag})
            self._call(
                lambda: client.complete_multipart_upload(
                    Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
                ),
                url,
            )
        except BaseException:
            try:
                client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            except Exception:
                pass
            raise

    def copy(self, bucket: str, key: str, to_bucket: str, to_key: str) -> None:
        """Server-side ``CopyObject`` (objects up to 5 GiB: result files are a few MiB)."""
        url = format_url(self.scheme, safe_bucket(to_bucket), safe_key(to_key))
        source = {"Bucket": safe_bucket(bucket), "Key": safe_key(key)}
        self._call(lambda: self._client.copy_object(Bucket=to_bucket, Key=to_key, CopySource=source), url)

    def list(self, bucket: str, prefix: str = "", start_after: str | None = None) -> Iterator[ObjectInfo]:
        url = format_url(self.scheme, safe_bucket(bucket), safe_key(prefix, allow_empty=True))
        kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": self.page_size}
        if start_after:
            kwargs["StartAfter"] = start_after
        while True:
            page = self._call(lambda: self._client.list_objects_v2(**kwargs), url)
            for obj in page.get("Contents", []):
                yield ObjectInfo(
                    bucket=bucket,
                    key=obj["Key"],
                    size=int(obj["Size"]),
                    etag=obj.get("ETag", ""),
                    last_modified=_utc(obj.get("LastModified")),
                    storage_class=obj.get("StorageClass", "STANDARD"),
                )
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return
            kwargs = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": self.page_size, "ContinuationToken": token}

    def head(self, bucket: str, key: str) -> ObjectInfo:
        url = format_url(self.scheme, safe_bucket(bucket), safe_key(key))
        meta = self._call(lambda: self._client.head_object(Bucket=bucket, Key=key), url)
        return ObjectInfo(
            bucket=bucket,
            key=key,
            size=int(meta["ContentLength"]),
            etag=meta.get("ETag", ""),
            last_modified=_utc(meta.get("LastModified")),
            storage_class=meta.get("StorageClass", "STANDARD"),
        )

    def create_bucket(self, bucket: str) -> None:
        """Create a bucket (tests and demos)."""
        url = format_url(self.scheme, safe_bucket(bucket))
        kwargs: dict[str, Any] = {"Bucket": bucket}
        if self.region_name and self.region_name != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region_name}
        self._call(lambda: self._client.create_bucket(**kwargs), url)
