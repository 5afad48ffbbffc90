"""Every reader/writer test runs against each backend: the local store, oss2 against the OSS bridge,
boto3 against moto's S3 server (``BACKENDS``)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import pytest

from airflow_cloudflow.storage.local import LocalStore
from tests.support.fixtures import *  # noqa: F401,F403  (s3_server, oss_server)

BACKENDS = ["local", "oss", "s3"]
_counter = itertools.count()


@dataclass
class Backend:
    """A store plus a fresh bucket to play in, and a way to seed objects without the store under test."""

    name: str
    store: Any
    bucket: str
    server: Any = None

    def put(self, key: str, body: bytes | str, bucket: str | None = None) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        if self.server is not None:
            self.server.put_object(bucket or self.bucket, key, data)
        else:
            self.store.put(bucket or self.bucket, key, data)


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path) -> Backend:
    bucket = f"test-bucket-{next(_counter)}"
    if request.param == "local":
        store = LocalStore(tmp_path, scheme="oss")
        store.create_bucket(bucket)
        return Backend("local", store, bucket)
    server = request.getfixturevalue(f"{request.param}_server")
    server.create_bucket(bucket)
    return Backend(request.param, server.store(), bucket, server)
