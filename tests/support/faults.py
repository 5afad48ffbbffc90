"""A tiny WSGI fault injector used by the retry tests (no SDK is mocked).

``POST /__faults__?count=N&status=503&code=SlowDown`` makes the next N requests fail with that HTTP
status and an S3/OSS-style XML error body; ``GET /__faults__`` returns how many were served.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

CONTROL_PATH = "/__faults__"


class FaultInjector:
    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app
        self._lock = threading.Lock()
        self._pending: list[tuple[int, str]] = []
        self.served = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == CONTROL_PATH:
            return self._control(environ, start_response)
        with self._lock:
            fault = self._pending.pop(0) if self._pending else None
            if fault:
                self.served += 1
        if fault is None:
            return self.app(environ, start_response)
        status, code = fault
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>injected fault</Message><RequestId>fault</RequestId></Error>"
        ).encode()
        _drain(environ)
        start_response(f"{status} Injected", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
        return [body]

    def _control(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST":
            q = parse_qs(environ.get("QUERY_STRING", ""))
            count = int(q.get("count", ["1"])[0])
            status = int(q.get("status", ["503"])[0])
            code = q.get("code", ["SlowDown"])[0]
            with self._lock:
                self._pending = [(status, code)] * count
                self.served = 0
        body = str(self.served).encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]


def _drain(environ: dict[str, Any]) -> None:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    stream = environ.get("wsgi.input")
    while length > 0 and stream is not None:
        chunk = stream.read(min(length, 1 << 16))
        if not chunk:
            break
        length -= len(chunk)
