"""Connections for Task integrations, looked up by id (no Airflow import).

Outside Airflow a connection id ``alibaba_cloud_default`` is read from the environment variable
``AIRFLOW_CONN_ALIBABA_CLOUD_DEFAULT`` (JSON or URI form, exactly as Airflow reads it); inside
Airflow ``providers/integrations.py`` passes a lookup going through ``BaseHook.get_connection``.

* ``alibaba_cloud``: the official Alibaba provider's connection -- extra ``access_key_id``,
  ``access_key_secret``, ``region`` (``login``/``password`` also accepted for the key pair); ours,
  optional: ``security_token`` (STS), ``fc_endpoint`` (e.g. ``https://<account>.<region>.fc.aliyuncs.com``
  or a local test server), ``account_id`` (when the function ARN omits it).

Secrets never appear in ``repr``/``str`` or in error messages.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Mapping

from ..exceptions import FlowError
from ..masking import mask_value
from ..storage.connections import ConnectionConfigError, RawConnection, parse_connection

ConnectionLookup = Callable[[str], RawConnection]
"""conn id → the connection's fields; raises ``ConnectionConfigError`` when it does not exist."""

ALIBABA_CONN_ID = "alibaba_cloud_default"
AWS_CONN_ID = "aws_default"
CONNECTION_MISSING = "FnF.ConnectionNotConfigured"


def env_var(conn_id: str) -> str:
    """``alibaba_cloud_default`` → ``AIRFLOW_CONN_ALIBABA_CLOUD_DEFAULT`` (Airflow's rule)."""
    return "AIRFLOW_CONN_" + conn_id.upper()


def environment_lookup(environ: Mapping[str, str] | None = None) -> ConnectionLookup:
    """A lookup reading ``AIRFLOW_CONN_<ID>`` from ``environ`` (default ``os.environ``, read at call time)."""

    def lookup(conn_id: str) -> RawConnection:
        env = os.environ if environ is None else environ
        name = env_var(conn_id)
        value = env.get(name)
        if not value:
            raise ConnectionConfigError(f"connection {conn_id!r} is not defined (set {name})")
        return parse_connection(value, name=name)

    return lookup


def resolve(lookup: ConnectionLookup, conn_id: str, action: str) -> RawConnection:
    """The connection, or a ``FnF.ConnectionNotConfigured`` Task error naming the Action and id."""
    try:
        return lookup(conn_id)
    except ConnectionConfigError as exc:
        raise FlowError(CONNECTION_MISSING, f"{action}: {exc}") from None
    except Exception as exc:  # e.g. Airflow's AirflowNotFoundException: report only its type
        raise FlowError(CONNECTION_MISSING, f"{action}: connection {conn_id!r} unavailable ({type(exc).__name__})") from None


@dataclass(frozen=True)
class AlibabaCloudCredentials:
    """An AccessKey pair (plus optional STS token), a default region and optional endpoint overrides."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    region: str | None = None
    security_token: str | None = field(default=None, repr=False)
    fc_endpoint: str | None = None
    account_id: str | None = None

    def __repr__(self) -> str:
        return (
            f"AlibabaCloudCredentials(access_key_id={mask_value(self.access_key_id)!r}, region={self.region!r}, "
            f"fc_endpoint={self.fc_endpoint!r})"
        )

    __str__ = __repr__

    @classmethod
    def from_raw(cls, raw: RawConnection, *, name: str = "alibaba_cloud connection") -> "AlibabaCloudCredentials":
        if raw.conn_type not in ("alibaba_cloud", "alibabacloud", "aliyun", "oss", ""):
            raise ConnectionConfigError(f"{name}: conn_type must be 'alibaba_cloud', got {raw.conn_type!r}")
        extra = raw.extra
        key_id = extra.get("access_key_id") or raw.login
        secret = extra.get("access_key_secret") or raw.password
        if not key_id or not secret:
            raise ConnectionConfigError(f"{name}: access_key_id and access_key_secret are required (in extra)")
        endpoint = extra.get("fc_endpoint") or extra.get("endpoint") or None
        if endpoint and "://" not in str(endpoint):
            endpoint = f"https://{endpoint}"
        return cls(
            access_key_id=str(key_id),
            access_key_secret=str(secret),
            region=extra.get("region") or None,
            security_token=extra.get("security_token") or None,
            fc_endpoint=str(endpoint).rstrip("/") if endpoint else None,
            account_id=str(extra["account_id"]) if extra.get("account_id") else None,
        )


def alibaba_credentials(lookup: ConnectionLookup, conn_id: str, action: str) -> AlibabaCloudCredentials:
    raw = resolve(lookup, conn_id, action)
    try:
        return AlibabaCloudCredentials.from_raw(raw, name=f"connection {conn_id!r}")
    except ConnectionConfigError as exc:
        raise FlowError(CONNECTION_MISSING, f"{action}: {exc}") from None


__all__ = [
    "ALIBABA_CONN_ID", "AWS_CONN_ID", "CONNECTION_MISSING", "AlibabaCloudCredentials", "ConnectionLookup",
    "alibaba_credentials", "env_var", "environment_lookup", "resolve",
]
