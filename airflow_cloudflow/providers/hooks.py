"""Airflow connections → object stores.

* ``OssHook``: the ``oss`` connection type (the official Alibaba provider's format: extra
  ``auth_type: AK``, ``access_key_id``, ``access_key_secret``, ``region``, optional ``endpoint``),
  parsed by ``storage.connections`` into an ``OssStore``.
* ``store_resolver_for(options)``: the stores one DAG uses: a local folder when the sidecar sets
  ``local_store``, else OSS through ``OssHook(options.oss_conn_id)`` and S3 through the amazon
  provider's ``S3Hook(aws_conn_id=options.aws_conn_id)``. Each store is created on first use, so a
  flow that only reads OSS never needs an ``aws`` connection (and nothing connects at parse time).

Secrets never reach logs, errors or reprs: the store and connection objects mask them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from ..storage.base import ObjectStore
from ..storage.connections import OssConnection, RawConnection
from ..storage.resolver import StoreResolver
from .options import DagOptions

if TYPE_CHECKING:  # pragma: no cover
    from ..storage.oss import OssStore


def _extra_dict(conn: Any) -> dict[str, Any]:
    """A connection's extra as a dict (never raises on a malformed extra: the parser reports it)."""
    getter = getattr(conn, "extra_dejson", None)
    if isinstance(getter, dict):
        return getter
    raw = getattr(conn, "extra", None)
    if isinstance(raw, str) and raw.strip():
        try:
            value = json.loads(raw)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}
    return raw if isinstance(raw, dict) else {}


def raw_connection(conn: Any) -> RawConnection:
    """The fields of an Airflow ``Connection`` that the store parsers read."""
    return RawConnection(
        conn_type=str(conn.conn_type or "").lower().replace("-", "_"),
        host=conn.host or None,
        login=conn.login or None,
        password=conn.password or None,
        port=conn.port or None,
        schema=conn.schema or None,
        extra=_extra_dict(conn),
    )


class OssHook(BaseHook):
    """Alibaba Cloud OSS through an ``oss`` connection; ``get_store()`` is an ``OssStore``."""

    conn_name_attr = "oss_conn_id"
    default_conn_name = "oss_default"
    conn_type = "oss"
    hook_name = "Alibaba Cloud OSS (CloudFlow)"

    def __init__(self, oss_conn_id: str = default_conn_name, **kwargs: Any):
        super().__init__(**kwargs)
        self.oss_conn_id = oss_conn_id

    def __repr__(self) -> str:
        return f"OssHook(oss_conn_id={self.oss_conn_id!r})"

    def get_oss_connection(self) -> OssConnection:
        """The parsed connection (a clear error naming the connection id when it is incomplete)."""
        conn = self.get_connection(self.oss_conn_id)
        return OssConnection.from_raw(raw_connection(conn), name=f"connection {self.oss_conn_id!r}")

    def get_store(self) -> "OssStore":
        """An ``OssStore`` for the connection (no request is sent until it is used; oss2, slow to
        import, is loaded only then)."""
        from ..storage.oss import OssStore

        return OssStore.from_connection(self.get_oss_connection())

    def get_conn(self) -> "OssStore":
        return self.get_store()

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Extra fields in the connection form (stored in ``extra`` under the same names)."""
        try:
            from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
            from flask_babel import lazy_gettext
            from wtforms import PasswordField, StringField
        except ImportError:  # Airflow 3's UI reads the field behaviour below; widgets are optional
            return {}
        return {
            "auth_type": StringField(lazy_gettext("Auth type"), widget=BS3TextFieldWidget(), default="AK"),
            "access_key_id": StringField(lazy_gettext("AccessKey ID"), widget=BS3TextFieldWidget()),
            "access_key_secret": PasswordField(lazy_gettext("AccessKey secret"), widget=BS3PasswordFieldWidget()),
            "region": StringField(lazy_gettext("Region"), widget=BS3TextFieldWidget()),
            "endpoint": StringField(lazy_gettext("Endpoint (optional)"), widget=BS3TextFieldWidget()),
        }

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Hide the generic fields the ``oss`` format does not use; prefill the extra."""
        return {
            "hidden_fields": ["host", "schema", "port", "login", "password"],
            "relabeling": {},
            "placeholders": {
                "extra": json.dumps(
                    {
                        "auth_type": "AK",
                        "access_key_id": "<AccessKey ID>",
                        "access_key_secret": "<AccessKey secret>",
                        "region": "cn-hangzhou",
                        "endpoint": "https://oss-cn-hangzhou.aliyuncs.com",
                    },
                    indent=2,
                ),
            },
        }


def s3_store_for(aws_conn_id: str) -> ObjectStore:
    """An ``S3Store`` driving the boto3 client of the amazon provider's ``S3Hook``."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from ..storage.s3 import S3Store

    client = S3Hook(aws_conn_id=aws_conn_id).get_conn()
    store = S3Store(region_name=client.meta.region_name, endpoint_url=client.meta.endpoint_url)
    store._client = client  # the hook's client: its credentials chain, endpoint and retries
    return store


class LazyStoreResolver(StoreResolver):
    """A ``StoreResolver`` whose stores are made by factories on first use (thread-safe)."""

    def __init__(self, factories: dict[str, Callable[[], ObjectStore]]):
        super().__init__({})
        self._factories = dict(factories)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        made = sorted(self._stores)
        return f"LazyStoreResolver(schemes={sorted(self._factories)!r}, created={made!r})"

    @property
    def schemes(self) -> tuple[str, ...]:
        return tuple(sorted(set(self._factories) | set(self._stores)))

    def for_scheme(self, scheme: str) -> ObjectStore:
        with self._lock:
            if scheme not in self._stores and scheme in self._factories:
                self._stores[scheme] = self._factories[scheme]()
        return super().for_scheme(scheme)


def store_resolver_for(options: DagOptions) -> StoreResolver:
    """The stores of one DAG: ``local_store`` when set, else OSS and S3 through their connections,
    each connected lazily on first use."""
    if options.local_store:
        return StoreResolver.local(options.local_store)
    return LazyStoreResolver(
        {
            "oss": lambda: OssHook(options.oss_conn_id).get_store(),
            "s3": lambda: s3_store_for(options.aws_conn_id),
        }
    )


__all__ = ["LazyStoreResolver", "OssHook", "raw_connection", "s3_store_for", "store_resolver_for"]
