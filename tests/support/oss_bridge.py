"""A WSGI middleware that makes moto's S3 engine speak OSS to oss2 (design.md, "Object storage in
tests"). The five protocol differences it bridges:

1. strip moto's S3 XML namespace from XML responses;
2. add the OSS-only elements oss2 requires: ``<Type>`` in listing ``<Contents>`` and
   ``Location``/``ExtranetEndpoint``/``IntranetEndpoint``/``StorageClass`` in bucket listings
   (and OSS's ``Standard`` spelling of the storage class);
3. drop an empty ``continuation-token`` query parameter;
4. map OSS auth (``OSS ...`` v1, ``OSS4-HMAC-SHA256 ...`` v4) to a neutral AWS v4 header (us-east-1);
5. ``S3_UPLOAD_PART_MIN_SIZE=102400`` -- set by ``servers.py`` in the server's environment, as moto
   reads it at import (OSS allows 100 KB parts).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl, urlencode

_NS_RE = re.compile(rb'\s+xmlns="http://s3\.amazonaws\.com/doc/2006-03-01/?"')
_CRED_RE = re.compile(r"Credential=([^/,\s]+)/(\d{8})/")
_V1_RE = re.compile(r"^OSS\s+([^:\s]+):")
_XML_QUERIES = ("uploads", "uploadId", "list-type", "delete", "location", "acl")
NEUTRAL_REGION = "us-east-1"

_BUCKET_EXTRA = (
    b"<Location>oss-cn-hangzhou</Location>"
    b"<ExtranetEndpoint>oss-cn-hangzhou.aliyuncs.com</ExtranetEndpoint>"
    b"<IntranetEndpoint>oss-cn-hangzhou-internal.aliyuncs.com</IntranetEndpoint>"
    b"<StorageClass>Standard</StorageClass>"
)


def neutral_authorization(header: str) -> str:
    """An OSS Authorization header rewritten to an AWS v4 header in ``us-east-1`` (same key id)."""
    key_id, date = "oss", "20240101"
    m = _CRED_RE.search(header)
    if m:
        key_id, date = m.group(1), m.group(2)
    else:
        v1 = _V1_RE.match(header)
        if v1:
            key_id = v1.group(1)
    return (
        f"AWS4-HMAC-SHA256 Credential={key_id}/{date}/{NEUTRAL_REGION}/s3/aws4_request, "
        "SignedHeaders=host, Signature=0"
    )


def rewrite_xml(body: bytes) -> bytes:
    """Apply differences 1 and 2 to an XML response body."""
    body = _NS_RE.sub(b"", body, count=1)
    if b"<ListBucketResult" in body:
        body = re.sub(rb"<Contents>(.*?)</Contents>", _add_type, body, flags=re.S)
        body = body.replace(b"<StorageClass>STANDARD</StorageClass>", b"<StorageClass>Standard</StorageClass>")
    if b"<ListAllMyBucketsResult" in body:
        body = re.sub(rb"</Bucket>", _BUCKET_EXTRA + b"</Bucket>", body)
    return body


def _add_type(match: re.Match[bytes]) -> bytes:
    inner = match.group(1)
    if b"<Type>" not in inner:
        inner += b"<Type>Normal</Type>"
    return b"<Contents>" + inner + b"</Contents>"


class OssBridge:
    """Wraps moto's WSGI app (``app``) so that oss2 can talk to it."""

    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        query = environ.get("QUERY_STRING", "")
        if query:
            pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not (k == "continuation-token" and not v)]
            environ["QUERY_STRING"] = urlencode(pairs, safe="/")
            query = environ["QUERY_STRING"]
        auth = environ.get("HTTP_AUTHORIZATION", "")
        if auth.startswith("OSS"):
            environ["HTTP_AUTHORIZATION"] = neutral_authorization(auth)
        path = environ.get("PATH_INFO", "/")
        bucket_level = path.strip("/").count("/") == 0
        keys = {k for k, _ in parse_qsl(query, keep_blank_values=True)}
        maybe_xml = bucket_level or bool(keys & set(_XML_QUERIES))

        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            captured["status"], captured["headers"] = status, headers
            if not (maybe_xml or not status.startswith("2")):
                return start_response(status, headers, exc_info)
            return lambda data: None  # write() unused by moto

        result = self.app(environ, capture)
        status = captured.get("status", "")
        if not (maybe_xml or not status.startswith("2")):
            return result
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        if body.lstrip().startswith(b"<"):
            body = rewrite_xml(body)
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        if environ.get("REQUEST_METHOD") != "HEAD":
            headers.append(("Content-Length", str(len(body))))
        else:
            headers += [(k, v) for k, v in captured["headers"] if k.lower() == "content-length"]
        start_response(status, headers)
        return [body]
