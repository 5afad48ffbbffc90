"""Alibaba Cloud request signature V3 (``ACS3-HMAC-SHA256``), with hmac/hashlib only.

As Alibaba's SDKs (Tea/Darabonba ``acs3``) sign every OpenAPI request:

* ``CanonicalRequest = Method \\n CanonicalURI \\n CanonicalQueryString \\n CanonicalHeaders \\n
  SignedHeaders \\n HashedRequestPayload``;
* ``CanonicalURI``: the request path exactly as sent (its segments already percent-encoded by the
  caller, as the SDKs' ``get_encode_param`` does for ``/functions/{name}``);
* ``CanonicalQueryString``: ``key=value`` pairs, both percent-encoded (RFC 3986, space as ``%20``),
  sorted by key, joined by ``&``;
* signed headers: ``host``, ``content-type`` and every ``x-acs-*`` header, lower-cased, sorted;
  ``CanonicalHeaders`` = ``name:trimmed-value\\n`` per signed header; ``SignedHeaders`` = names joined by ``;``;
* ``HashedRequestPayload = hex(sha256(body))``, also sent as ``x-acs-content-sha256``;
* ``StringToSign = "ACS3-HMAC-SHA256\\n" + hex(sha256(CanonicalRequest))``;
* ``Authorization: ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<…>,Signature=<hex hmac-sha256>``.

The secret is only ever an HMAC key: it never appears in the returned headers.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Mapping
from urllib.parse import quote

ALGORITHM = "ACS3-HMAC-SHA256"


def percent_encode(value: str, safe: str = "") -> str:
    """RFC 3986 encoding: unreserved characters (``A-Za-z0-9-_.~``) kept, all else ``%XX`` (UTF-8)."""
    return quote(value, safe="-_.~" + safe)


def canonical_query(query: Mapping[str, str]) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(str(v))}" for k, v in sorted(query.items()))


def signed_header_names(headers: Mapping[str, str]) -> list[str]:
    names = {k.lower() for k in headers}
    return sorted(n for n in names if n in ("host", "content-type") or n.startswith("x-acs-"))


def canonical_request(
    method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], payload_hash: str
) -> tuple[str, str]:
    """(canonical request, signed headers)."""
    lowered = {k.lower(): str(v).strip() for k, v in headers.items()}
    names = signed_header_names(headers)
    canonical_headers = "".join(f"{n}:{lowered[n]}\n" for n in names)
    signed = ";".join(names)
    text = "\n".join(
        [method.upper(), path or "/", canonical_query(query), canonical_headers, signed, payload_hash]
    )
    return text, signed


def string_to_sign(canonical: str) -> str:
    return f"{ALGORITHM}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"


def signature(secret: str, to_sign: str) -> str:
    return hmac.new(secret.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SignedRequest:
    """The headers to send (including ``Authorization``); ``canonical`` is kept for debugging tests."""

    headers: dict[str, str]
    canonical: str = field(repr=False)


def sign(
    *,
    method: str,
    host: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    access_key_id: str,
    access_key_secret: str,
    action: str,
    version: str,
    security_token: str | None = None,
    now: datetime | None = None,
    nonce: str | None = None,
) -> SignedRequest:
    """``path`` is the encoded path as it goes on the wire. Add ``host``, ``x-acs-action/version/date/signature-nonce/content-sha256`` (and
    ``x-acs-security-token``) to ``headers`` and sign them."""
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    payload_hash = hashlib.sha256(body).hexdigest()
    all_headers = {
        **dict(headers),
        "host": host,
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
        "x-acs-content-sha256": payload_hash,
    }
    if security_token:
        all_headers["x-acs-security-token"] = security_token
    canonical, signed = canonical_request(method, path, query, all_headers, payload_hash)
    sig = signature(access_key_secret, string_to_sign(canonical))
    all_headers["Authorization"] = f"{ALGORITHM} Credential={access_key_id},SignedHeaders={signed},Signature={sig}"
    return SignedRequest(all_headers, canonical)
