"""A raw binary stream over an SDK response body that maps SDK read errors to ``StoreError``."""

from __future__ import annotations

import io
from typing import Callable


class SdkStream(io.RawIOBase):
    """``read`` pulls from the SDK body; mid-stream faults become ``StoreError`` via ``translate``."""

    def __init__(self, read: Callable[[int], bytes], close: Callable[[], None], translate: Callable[[BaseException], Exception]):
        self._read = read
        self._close = close
        self._translate = translate

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        try:
            data = self._read(len(buffer))
        except Exception as exc:  # SDK / urllib3 / socket errors
            raise self._translate(exc) from None
        n = len(data)
        buffer[:n] = data
        return n

    def close(self) -> None:
        if not self.closed:
            try:
                self._close()
            except Exception:  # closing a half-read HTTP body must never mask the real outcome
                pass
            finally:
                super().close()
