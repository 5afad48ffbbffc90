"""Where a Map Run stages its shards, checkpoints and callbacks: ``staging_url`` (the flow's sidecar,
else ``[cloudflow] staging_url``; default a folder under AIRFLOW_HOME)."""

from __future__ import annotations

import os
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
