"""Which store serves which URL scheme (``oss``, ``s3``)."""

from __future__ import annotations

import os
from typing import Mapping

from ..exceptions import StoreError
from .base import ObjectStore
from .map_files import MapFiles

OSS_ENV = "AIRFLOW_CONN_OSS_DEFAULT"
AWS_ENV = "AIRFLOW_CONN_AWS_DEFAULT"

_HOW_TO = {
    "oss": f"set {OSS_ENV} (an 'oss' connection: extra access_key_id, access_key_secret, region[, endpoint]) "
    "or pass --store DIR",
    "s3": f"set {AWS_ENV} (an 'aws' connection: login/password keys, extra region_name[, endpoint_url]) "
    "or pass --store DIR",
}


class StoreNotConfigured(StoreError):
    """No store is configured for a scheme."""


class StoreResolver(MapFiles):
    """Maps a scheme to its store: ``StoreResolver({"oss": OssStore(...), "s3": S3Store(...)})``.
    With ``MapFiles`` it is the runtime's ``MapStorage`` port (what ``Interpreter(stores=)`` takes)."""

    def __init__(self, stores: dict[str, ObjectStore]):
        self._stores = dict(stores)

    def __repr__(self) -> str:
        return f"StoreResolver({ {k: type(v).__name__ for k, v in self._stores.items()} !r})"

    @property
    def schemes(self) -> tuple[str, ...]:
        return tuple(sorted(self._stores))

    def for_scheme(self, scheme: str) -> ObjectStore:
        """The store for ``scheme``; a clear error naming the scheme and how to configure it if none."""
        try:
            return self._stores[scheme]
        except KeyError:
            how = _HOW_TO.get(scheme, "register a store for it")
            raise StoreNotConfigured(f"no object store configured for '{scheme}://' URLs: {how}") from None

    @classmethod
    def local(cls, root: str | os.PathLike[str]) -> "StoreResolver":
        """Serve ``oss`` and ``s3`` from one directory (the CLI's ``--store DIR``)."""
        from .local import LocalStore

        return cls({"oss": LocalStore(root, scheme="oss"), "s3": LocalStore(root, scheme="s3")})

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> "StoreResolver":
        """OSS from ``AIRFLOW_CONN_OSS_DEFAULT``, S3 from ``AIRFLOW_CONN_AWS_DEFAULT`` (JSON or URI form)."""
        stores: dict[str, ObjectStore] = {}
        if environ.get(OSS_ENV):
            from .connections import oss_connection
            from .oss import OssStore

            stores["oss"] = OssStore.from_connection(oss_connection(environ[OSS_ENV]))
        if environ.get(AWS_ENV):
            from .connections import s3_connection
            from .s3 import S3Store

            stores["s3"] = S3Store.from_connection(s3_connection(environ[AWS_ENV]))
        return cls(stores)
