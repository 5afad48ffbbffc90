"""A store wrapper recording every stream it opens (bytes read, closed) -- used to prove readers
stream and stop early. It wraps a real store; nothing is mocked."""

from __future__ import annotations

from airflow_cloudflow.storage.readers.streams import CountingStream


class SpyStore:
    def __init__(self, inner):
        self.inner = inner
        self.scheme = inner.scheme
        self.streams: list[CountingStream] = []

    def open(self, bucket, key):
        stream = CountingStream(self.inner.open(bucket, key))
        self.streams.append(stream)
        return stream

    def put(self, bucket, key, data):
        return self.inner.put(bucket, key, data)

    def list(self, bucket, prefix="", start_after=None):
        return self.inner.list(bucket, prefix, start_after)

    def head(self, bucket, key):
        return self.inner.head(bucket, key)
