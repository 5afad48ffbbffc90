"""Where a Map Run stages its shards, checkpoints and callbacks: ``staging_url`` (the flow's sidecar,
else ``[cloudflow] staging_url``; default a folder under AIRFLOW_HOME)."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlparse

from ..planning.shards import Staging
from ..storage.local import LocalStore
from .config import settings
from .hooks import store_resolver_for
from .options import DagOptions


def staging_at(options: DagOptions, prefix: str, *, absolute: bool = False) -> Staging:
    """The staging area of one Map Run: ``staging_url`` (sidecar, else ``[cloudflow]``) + ``prefix``.

    ``absolute``: ``prefix`` is already a full prefix returned by an earlier call (``Staging.prefix``).
    """
    url = options.staging_url or settings().staging_url
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        path = os.path.abspath(parsed.path if parsed.scheme else url)
        store = LocalStore(os.path.dirname(path))
        bucket = os.path.basename(path)
        store.create_bucket(bucket)
        return Staging(store, bucket, prefix)
    if parsed.scheme in ("oss", "s3"):
        store = store_resolver_for(options).for_scheme(parsed.scheme)
        base = parsed.path.strip("/")
        return Staging(store, parsed.netloc, f"{base}/{prefix}" if base and not absolute else prefix)
    raise ValueError(f"[cloudflow] staging_url must be file://, oss:// or s3://, got {url!r}")


def staging_location(options: DagOptions, prefix: str) -> dict[str, Any]:
    """Where a Map Run's staging area is, as the Map Run view finds it again in the api-server
    (the ItemReader task's XCom): the staging URL, the absolute prefix and the connection ids
    (names, never secrets) or local folder the DAG reads its stores with."""
    return {"url": options.staging_url or settings().staging_url, "prefix": prefix,
            "oss_conn_id": options.oss_conn_id, "aws_conn_id": options.aws_conn_id,
            "local_store": options.local_store}


def location_options(location: dict[str, Any]) -> DagOptions:
    """The store settings of a ``staging_location`` (what the view needs to open its stores)."""
    return DagOptions(staging_url=location["url"], oss_conn_id=location.get("oss_conn_id") or "oss_default",
                      aws_conn_id=location.get("aws_conn_id") or "aws_default",
                      local_store=location.get("local_store"))


def staging_of(location: dict[str, Any]) -> Staging:
    """The ``Staging`` of a ``staging_location``."""
    return staging_at(location_options(location), location["prefix"], absolute=True)
