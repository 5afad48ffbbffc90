"""Airflow-style connections parsed without Airflow (JSON form and URI form).

* OSS: the official Alibaba provider's ``oss`` connection -- extra ``auth_type: "AK"``,
  ``access_key_id``, ``access_key_secret``, ``region``, and (ours, optional) ``endpoint`` and
  ``auth_version`` (``v4`` default, or ``v1``). ``login``/``password`` are accepted as the keys
  when the extra has none.
* S3: the amazon provider's ``aws`` connection -- ``login``/``password`` are the access key
  id/secret, extra ``endpoint_url``, ``region_name`` (``aws_access_key_id``/``aws_secret_access_key``/
  ``aws_session_token`` in the extra also work).

Secrets never appear in ``repr``/``str`` of these objects or in error messages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import parse_qsl, unquote, urlsplit

from ..exceptions import StoreError
from ..masking import mask_value


class ConnectionConfigError(StoreError):
    """A connection could not be parsed (the message never quotes its secret parts)."""


@dataclass(frozen=True)
class RawConnection:
    """The fields of an Airflow connection that stores use."""

    conn_type: str
    host: str | None = None
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    port: int | None = None
    schema: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        return f"RawConnection(conn_type={self.conn_type!r}, host={self.host!r}, extra_keys={sorted(self.extra)!r})"


def parse_connection(value: str, *, name: str = "connection") -> RawConnection:
    """Parse ``AIRFLOW_CONN_*`` text: a JSON object or a URI (``type://login:password@host:port/schema?extra``)."""
    text = value.strip()
    if text.startswith("{"):
        return _from_json(text, name)
    return _from_uri(text, name)


def _from_json(text: str, name: str) -> RawConnection:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConnectionConfigError(f"{name}: not valid JSON (at char {exc.pos})") from None
    if not isinstance(data, dict):
        raise ConnectionConfigError(f"{name}: a JSON connection must be an object")
    extra = data.get("extra") or {}
    if isinstance(extra, str):
        try:
            extra = json.loads(extra) if extra.strip() else {}
        except ValueError:
            raise ConnectionConfigError(f"{name}: 'extra' is not valid JSON") from None
    if not isinstance(extra, dict):
        raise ConnectionConfigError(f"{name}: 'extra' must be a JSON object")
    port = data.get("port")
    return RawConnection(
        conn_type=str(data.get("conn_type") or data.get("connection_type") or "").lower().replace("-", "_"),
        host=data.get("host") or None,
        login=data.get("login") or None,
        password=data.get("password") or None,
        port=int(port) if port not in (None, "") else None,
        schema=data.get("schema") or None,
        extra=extra,
    )


def _from_uri(text: str, name: str) -> RawConnection:
    if "://" not in text:
        raise ConnectionConfigError(f"{name}: expected a JSON object or a URI like 'oss://?region=...'")
    conn_type, _, _rest = text.partition("://")
    parts = urlsplit(text)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if "__extra__" in query:
        try:
            extra = json.loads(query.pop("__extra__"))
        except ValueError:
            raise ConnectionConfigError(f"{name}: '__extra__' is not valid JSON") from None
    else:
        extra = query
    try:
        port = parts.port
    except ValueError:
        raise ConnectionConfigError(f"{name}: invalid port") from None
    return RawConnection(
        conn_type=conn_type.lower().replace("-", "_"),
        host=unquote(parts.hostname or "") or None,
        login=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        port=port,
        schema=unquote(parts.path.lstrip("/")) or None,
        extra=extra,
    )


@dataclass(frozen=True)
class OssConnection:
    """What ``OssStore`` needs. ``endpoint`` defaults to ``https://oss-<region>.aliyuncs.com``."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    region: str | None = None
    endpoint: str | None = None
    auth_version: str = "v4"

    def __repr__(self) -> str:
        return (
            f"OssConnection(endpoint={self.resolved_endpoint!r}, region={self.region!r}, "
            f"auth_version={self.auth_version!r}, access_key_id={mask_value(self.access_key_id)!r})"
        )

    __str__ = __repr__

    @property
    def resolved_endpoint(self) -> str | None:
        if self.endpoint:
            return self.endpoint if "://" in self.endpoint else f"https://{self.endpoint}"
        return f"https://oss-{self.region}.aliyuncs.com" if self.region else None

    @classmethod
    def from_raw(cls, raw: RawConnection, *, name: str = "oss connection") -> "OssConnection":
        if raw.conn_type not in ("oss", ""):
            raise ConnectionConfigError(f"{name}: conn_type must be 'oss', got {raw.conn_type!r}")
        extra = raw.extra
        auth_type = str(extra.get("auth_type", "AK"))
        if auth_type != "AK":
            raise ConnectionConfigError(f"{name}: only auth_type 'AK' is supported, got {auth_type!r}")
        key_id = extra.get("access_key_id") or raw.login
        secret = extra.get("access_key_secret") or raw.password
        if not key_id or not secret:
            raise ConnectionConfigError(f"{name}: access_key_id and access_key_secret are required (in extra)")
        region = extra.get("region") or None
        endpoint = extra.get("endpoint") or raw.host or None
        if endpoint and raw.port and "://" not in endpoint and ":" not in endpoint:
            endpoint = f"{endpoint}:{raw.port}"
        version = str(extra.get("auth_version", "v4")).lower()
        if version not in ("v1", "v4"):
            raise ConnectionConfigError(f"{name}: auth_version must be 'v1' or 'v4', got {version!r}")
        if version == "v4" and not region:
            raise ConnectionConfigError(f"{name}: 'region' is required with auth_version v4")
        if not endpoint and not region:
            raise ConnectionConfigError(f"{name}: give 'endpoint' or 'region' in extra")
        return cls(str(key_id), str(secret), region, endpoint, version)


@dataclass(frozen=True)
class S3Connection:
    """What ``S3Store`` needs (all optional: boto3's default chain fills the gaps)."""

    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    region_name: str | None = None
    endpoint_url: str | None = None

    def __repr__(self) -> str:
        return (
            f"S3Connection(endpoint_url={self.endpoint_url!r}, region_name={self.region_name!r}, "
            f"access_key_id={mask_value(self.access_key_id)!r})"
        )

    __str__ = __repr__

    @classmethod
    def from_raw(cls, raw: RawConnection, *, name: str = "aws connection") -> "S3Connection":
        if raw.conn_type not in ("aws", "s3", ""):
            raise ConnectionConfigError(f"{name}: conn_type must be 'aws', got {raw.conn_type!r}")
        extra = raw.extra
        endpoint = extra.get("endpoint_url") or (extra.get("service_config") or {}).get("s3", {}).get("endpoint_url")
        return cls(
            access_key_id=raw.login or extra.get("aws_access_key_id") or None,
            secret_access_key=raw.password or extra.get("aws_secret_access_key") or None,
            session_token=extra.get("aws_session_token") or None,
            region_name=extra.get("region_name") or None,
            endpoint_url=endpoint or None,
        )


def oss_connection(value: str, *, name: str = "AIRFLOW_CONN_OSS_DEFAULT") -> OssConnection:
    return OssConnection.from_raw(parse_connection(value, name=name), name=name)


def s3_connection(value: str, *, name: str = "AIRFLOW_CONN_AWS_DEFAULT") -> S3Connection:
    return S3Connection.from_raw(parse_connection(value, name=name), name=name)
