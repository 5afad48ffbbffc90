"""Session-scoped object-storage servers for pytest. Use from any test folder's conftest.py::

    from tests.support.fixtures import *  # noqa

``oss_server`` / ``s3_server`` are ``ServerHandle``s: ``.endpoint``, ``.access_key_id``,
``.access_key_secret``, ``.region``, ``.store(**kw)``, ``.create_bucket(b)``, ``.put_object(b, k, data)``,
``.upload_case(case)`` (a conformance case's ``oss_buckets``/``oss_objects``, ``body_base64`` included),
``.connection_json()`` / ``.env()`` for ``AIRFLOW_CONN_*``, ``.inject_faults(n, status, code)``.
"""

from __future__ import annotations

import pytest

from tests.support.servers import ServerHandle, start_oss_server, start_s3_server

__all__ = ["oss_server", "s3_server"]


@pytest.fixture(scope="session")
def oss_server() -> ServerHandle:
    handle = start_oss_server()
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def s3_server() -> ServerHandle:
    handle = start_s3_server()
    yield handle
    handle.stop()
