"""A raw binary stream over an SDK response body that maps SDK read errors to ``StoreError`` and
resumes after a mid-body fault (docs/storage.md "Resumable reads").

A connection reset or timeout in the middle of a download is transient: the stream re-opens the
object with a ranged GET from the first byte not yet delivered (``Range: bytes=<n>-``), pinned to the
ETag of the first response (``If-Match``) so a replaced object fails instead of being spliced. Each
fault that delivered no byte since the previous one counts as one attempt of the store's
``RetryPolicy`` (same backoff); a fault after progress starts the count again. Final faults (the
object is gone, the ETag changed, access denied) are raised at once.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Callable

from ..exceptions import StoreError
from .retry import RetryPolicy


@dataclass(frozen=True)
class Body:
    """One GET response: its reader, closer, the object's ETag, and the offset its bytes start at
    (from ``Content-Range``; 0 for a whole-object response)."""

    read: Callable[[int], bytes]
    close: Callable[[], None]
    etag: str = ""
    start: int = 0


Fetch = Callable[[int, str], Body]
"""``fetch(offset, etag)``: a GET of the object from ``offset`` (a ranged GET with ``If-Match: etag``
when ``offset`` > 0); raises SDK exceptions, which ``translate`` maps."""


def content_range_start(value: str | None) -> int:
    """The first byte of ``Content-Range: bytes 100-199/200`` (0 when absent)."""
    if not value or not value.startswith("bytes "):
        return 0
    first = value[6:].split("-", 1)[0].strip()
    return int(first) if first.isdigit() else 0


class SdkStream(io.RawIOBase):
    """``read`` pulls from the SDK body; mid-stream faults become ``StoreError`` via ``translate``,
    and retriable ones resume from the current offset (``fetch``) within ``retry``."""

    def __init__(self, body: Body, translate: Callable[[BaseException], StoreError], *,
                 fetch: Fetch | None = None, retry: RetryPolicy | None = None):
        self._body = body
        self._translate = translate
        self._fetch = fetch
        self._retry = retry or RetryPolicy(max_attempts=1)
        self.offset = 0  # bytes delivered so far
        self.resumes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        failures = 0
        while True:
            try:
                data = self._body.read(len(buffer))
            except Exception as exc:  # SDK / urllib3 / socket errors
                error = self._translate(exc)
                failures += 1
                self._resume(error, failures)
                continue
            n = len(data)
            buffer[:n] = data
            self.offset += n
            return n

    def _resume(self, error: StoreError, failures: int) -> None:
        """Re-open from ``offset`` after ``error``, or raise it when it is final or the budget is spent."""
        while True:
            if self._fetch is None or not error.retriable or failures >= self._retry.max_attempts:
                raise error
            self._retry.sleep(self._retry.delay(failures - 1))
            self._close_body()
            try:
                body = self._fetch(self.offset, self._body.etag)
            except Exception as exc:
                error = self._translate(exc)
                failures += 1
                continue
            if body.start != self.offset:
                body.close()
                raise StoreError(f"the server answered a ranged GET from byte {self.offset} with byte "
                                 f"{body.start}; cannot resume the download", url=error.url)
            self._body = Body(body.read, body.close, self._body.etag or body.etag, body.start)
            self.resumes += 1
            return

    def _close_body(self) -> None:
        try:
            self._body.close()
        except Exception:  # closing a half-read HTTP body must never mask the real outcome
            pass

    def close(self) -> None:
        if not self.closed:
            try:
                self._close_body()
            finally:
                super().close()
