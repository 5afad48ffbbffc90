"""Local object-storage servers for tests and demos: moto's S3 server, and the same engine behind the
OSS bridge (``oss_bridge.py``). Each runs in its own subprocess on 127.0.0.1 and a free port, behind
the fault injector (``faults.py``).

Outside pytest::

    from tests.support.servers import start_oss_server, start_s3_server
    oss = start_oss_server(); s3 = start_s3_server()
    oss.create_bucket("example-bucket"); oss.put_object("example-bucket", "k", b"...")
    os.environ["AIRFLOW_CONN_OSS_DEFAULT"] = oss.connection_json()
    ...
    oss.stop(); s3.stop()

Or ``python -m tests.support.servers oss`` (prints the endpoint and the connection JSON, runs until
interrupted).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCESS_KEY_ID = "testing-key-id"
ACCESS_KEY_SECRET = "testing-secret-key"
OSS_REGION = "cn-hangzhou"
S3_REGION = "us-east-1"
OSS_PART_MIN_SIZE = 102400
READY = "READY"


@dataclass
class ServerHandle:
    """A running server: endpoint, credentials, store factories and seeding helpers."""

    kind: str  # "oss" | "s3"
    endpoint: str
    process: subprocess.Popen = field(repr=False)
    access_key_id: str = ACCESS_KEY_ID
    access_key_secret: str = field(default=ACCESS_KEY_SECRET, repr=False)
    region: str = OSS_REGION

    # ---------------------------------------------------------------- stores
    def store(self, **kwargs: Any):
        """A fresh ``OssStore``/``S3Store`` on this server (kwargs: page_size, multipart_threshold, retry...)."""
        if self.kind == "oss":
            from airflow_cloudflow.storage.oss import OssStore

            kwargs.setdefault("auth_version", "v4")
            return OssStore(self.endpoint, self.access_key_id, self.access_key_secret, self.region, **kwargs)
        from airflow_cloudflow.storage.s3 import S3Store

        return S3Store(
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.access_key_secret,
            **kwargs,
        )

    def connection(self) -> dict[str, Any]:
        """The Airflow connection (dict form) pointing at this server."""
        if self.kind == "oss":
            return {
                "conn_type": "oss",
                "extra": {
                    "auth_type": "AK",
                    "access_key_id": self.access_key_id,
                    "access_key_secret": self.access_key_secret,
                    "region": self.region,
                    "endpoint": self.endpoint,
                },
            }
        return {
            "conn_type": "aws",
            "login": self.access_key_id,
            "password": self.access_key_secret,
            "extra": {"endpoint_url": self.endpoint, "region_name": self.region},
        }

    def connection_json(self) -> str:
        """For ``AIRFLOW_CONN_OSS_DEFAULT`` / ``AIRFLOW_CONN_AWS_DEFAULT``."""
        return json.dumps(self.connection())

    def env(self) -> dict[str, str]:
        name = "AIRFLOW_CONN_OSS_DEFAULT" if self.kind == "oss" else "AIRFLOW_CONN_AWS_DEFAULT"
        return {name: self.connection_json()}

    # ---------------------------------------------------------------- seeding
    def create_bucket(self, bucket: str) -> None:
        """Create a bucket (idempotent)."""
        from airflow_cloudflow.exceptions import StoreError

        try:
            self.store(retry=_no_retry()).create_bucket(bucket)
        except StoreError as exc:
            if "BucketAlready" not in str(exc):
                raise

    def put_object(self, bucket: str, key: str, data: bytes | str) -> None:
        body = data.encode("utf-8") if isinstance(data, str) else data
        self.store(multipart_threshold=1 << 62).put(bucket, key, body)

    def upload_case(self, case: dict[str, Any]) -> None:
        """Create a conformance case's ``oss_buckets``/``s3_buckets`` and upload its objects
        (``body`` as UTF-8, ``body_base64`` decoded)."""
        prefix = "oss" if self.kind == "oss" else "s3"
        for bucket in case.get(f"{prefix}_buckets", []):
            self.create_bucket(bucket)
        for obj in case.get(f"{prefix}_objects", []):
            self.create_bucket(obj["bucket"])
            body = base64.b64decode(obj["body_base64"]) if "body_base64" in obj else obj.get("body", "").encode("utf-8")
            self.put_object(obj["bucket"], obj["key"], body)

    # ---------------------------------------------------------------- faults
    def inject_faults(self, count: int, status: int = 503, code: str = "SlowDown", reset_after: int | None = None) -> None:
        """The next ``count`` requests fail with ``status``/``code``; with ``reset_after``, the next
        ``count`` object GETs are reset after that many body bytes (see ``faults.py``)."""
        url = f"{self.endpoint}/__faults__?count={count}&status={status}&code={code}"
        if reset_after is not None:
            url += f"&reset_after={reset_after}"
        urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=10).read()

    def faults_served(self) -> int:
        return int(urllib.request.urlopen(f"{self.endpoint}/__faults__", timeout=10).read())

    # ---------------------------------------------------------------- life cycle
    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()


def _no_retry():
    from airflow_cloudflow.storage.retry import NO_RETRY

    return NO_RETRY


def _start(kind: str, timeout: float = 60) -> ServerHandle:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    if kind == "oss":
        env["S3_UPLOAD_PART_MIN_SIZE"] = str(OSS_PART_MIN_SIZE)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.servers", "--serve", kind],
        cwd=str(REPO_ROOT),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    if not line or not line[0].startswith(READY):
        proc.kill()
        proc.wait()
        raise RuntimeError(f"the {kind} test server did not start (got {line[:1]!r})")
    port = int(line[0].split()[1])
    region = OSS_REGION if kind == "oss" else S3_REGION
    return ServerHandle(kind, f"http://127.0.0.1:{port}", proc, region=region)


def start_oss_server() -> ServerHandle:
    """moto's S3 engine behind the OSS bridge, for oss2 (auth v1 and v4)."""
    return _start("oss")


def start_s3_server() -> ServerHandle:
    """moto's S3 server, for boto3."""
    return _start("s3")


def _serve(kind: str) -> None:
    """Child process: build the WSGI stack, bind a free port, print ``READY <port>``, serve."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from tests.support.faults import FaultInjector
    from tests.support.oss_bridge import OssBridge

    app: Any = create_backend_app("s3")
    if kind == "oss":
        app = OssBridge(app)
    app = FaultInjector(app)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    print(f"{READY} {server.server_port}", flush=True)
    server.serve_forever()


def main(argv: list[str]) -> None:
    if len(argv) == 2 and argv[0] == "--serve":
        _serve(argv[1])
        return
    kind = argv[0] if argv else "oss"
    handle = start_oss_server() if kind == "oss" else start_s3_server()
    print(f"endpoint: {handle.endpoint}\n{'AIRFLOW_CONN_OSS_DEFAULT' if kind == 'oss' else 'AIRFLOW_CONN_AWS_DEFAULT'}='{handle.connection_json()}'", flush=True)
    try:
        handle.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
