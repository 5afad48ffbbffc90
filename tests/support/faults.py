"""A tiny WSGI fault injector used by the retry tests (no SDK is mocked).

``POST /__faults__?count=N&status=503&code=SlowDown`` makes the next N requests fail with that HTTP
status and an S3/OSS-style XML error body; ``POST /__faults__?count=N&reset_after=B`` makes the next
N object GETs send their first B body bytes and then reset the connection (TCP RST: a connection
reset mid-download); ``GET /__faults__`` returns how many were served.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import parse_qs

CONTROL_PATH = "/__faults__"


class FaultInjector:
    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app
        self._lock = threading.Lock()
        self._pending: list[tuple[int, str, int | None]] = []
        self.served = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == CONTROL_PATH:
            return self._control(environ, start_response)
        is_get = environ.get("REQUEST_METHOD") == "GET" and "list-type" not in environ.get("QUERY_STRING", "")
        with self._lock:
            fault = self._pending.pop(0) if self._pending and (self._pending[0][2] is None or is_get) else None
            if fault:
                self.served += 1
        if fault is None:
            return self.app(environ, start_response)
        status, code, reset_after = fault
        if reset_after is not None:
            return _reset_after(self.app(environ, start_response), reset_after, environ)
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
            reset_after = int(q["reset_after"][0]) if "reset_after" in q else None
            with self._lock:
                self._pending = [(status, code, reset_after)] * count
                self.served = 0
        body = str(self.served).encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]


def _reset_after(body: Iterable[bytes], limit: int, environ: dict[str, Any]) -> Iterator[bytes]:
    """Pass the first ``limit`` bytes of ``body`` (flushed by the server), then reset the connection."""
    sent = 0
    try:
        for chunk in body:
            if sent + len(chunk) < limit:
                sent += len(chunk)
                yield chunk
                continue
            yield chunk[: limit - sent]
            time.sleep(0.05)  # let the bytes leave before the reset discards the send buffer
            conn = environ["werkzeug.socket"]
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raise ConnectionResetError("injected reset mid-body")  # the server closes: RST
    finally:
        close = getattr(body, "close", None)
        if close:
            close()


def _drain(environ: dict[str, Any]) -> None:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    stream = environ.get("wsgi.input")
    while length > 0 and stream is not None:
        chunk = stream.read(min(length, 1 << 16))
        if not chunk:
            break
        length -= len(chunk)
