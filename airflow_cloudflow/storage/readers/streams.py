"""Streaming building blocks shared by the readers: byte counting, gzip sniffing, CSV rows, and an
incremental JSON-array element scanner.

"Readers STREAM: memory stays flat as the source grows." Nothing here reads a whole object: CSV
goes through ``io.TextIOWrapper`` on the object stream, JSON arrays through
``json.JSONDecoder.raw_decode`` on a sliding buffer, gzip through ``gzip.GzipFile(fileobj=...)``.
One JSON array element or JSON Lines line may hold at most ``MAX_ELEMENT_CHARS`` characters (64 Mi;
64 MiB of ASCII text), one CSV record (all its fields) ``MAX_RECORD_CHARS`` (8 Mi): a bigger one is a
reader error, not a whole object loaded into memory. gzip output may not exceed ``MAX_INFLATION_RATIO``
(100) times the compressed bytes read, checked once 8 MiB came out (docs/limits.md).
JSON is Go's: ``NaN``/``Infinity`` are refused, and nesting too deep for the decoder is a reader error.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
import json
from typing import Any, BinaryIO, Iterator

from ...jsonvalues import STRICT_DECODER, RejectedJson, check_depth

CHUNK = 64 * 1024
MAX_ELEMENT_CHARS = 64 * 1024 * 1024
MAX_RECORD_CHARS = 8 * 1024 * 1024
MAX_INFLATION_RATIO = 100
INFLATION_CHECK_BYTES = 8 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
_WS = " \t\n\r"
_RETRY_MARGIN = 32  # a decode error this close to the buffer's end may just be a cut token


class MalformedData(ValueError):
    """The object's content is not what the reader expects; ``where`` says row / byte offset."""

    def __init__(self, message: str, where: str):
        self.where = where
        super().__init__(f"{message} ({where})")


def limit_items(items: Iterator[Any], n: int) -> Iterator[Any]:
    """Yield at most ``n`` items, then close the source generator (which closes its stream)."""
    try:
        yield from itertools.islice(items, n)
    finally:
        items.close()  # type: ignore[attr-defined]


def decode_json(text: str, where: str, what: str = "malformed JSON") -> Any:
    """One JSON text (a JSON Lines line) by Go's rules; ``MalformedData`` naming ``where``."""
    try:
        return check_depth(_STRICT.decode(text))
    except json.JSONDecodeError as exc:
        raise MalformedData(f"{what}: {exc.msg}", where) from None
    except RejectedJson as exc:
        raise MalformedData(f"{what}: {exc}", where) from None
    except RecursionError:
        raise MalformedData(f"{what}: nested too deeply", where) from None


_STRICT = STRICT_DECODER  # NaN/Infinity, huge integers and doubles out of range are refused


class CountingStream(io.RawIOBase):
    """A read-only raw stream that counts the bytes pulled from ``inner`` (for offsets and tests)."""

    def __init__(self, inner: BinaryIO):
        self.inner = inner
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self.inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.bytes_read += n
        return n

    def close(self) -> None:
        if not self.closed:
            try:
                self.inner.close()
            finally:
                super().close()


def maybe_gunzip(stream: BinaryIO) -> BinaryIO:
    """Decompress on the fly when the stream starts with the gzip magic bytes, with the inflation
    ratio bounded (``BoundedInflation``)."""
    counted = stream if isinstance(stream, CountingStream) else CountingStream(stream)
    buffered = io.BufferedReader(counted, CHUNK)  # type: ignore[arg-type]
    if buffered.peek(2)[:2] == GZIP_MAGIC:
        inflating = gzip.GzipFile(fileobj=buffered, mode="rb")
        return io.BufferedReader(BoundedInflation(inflating, counted), CHUNK)  # type: ignore[return-value]
    return buffered  # type: ignore[return-value]


class BoundedInflation(CountingStream):
    """gzip output that may not grow past ``MAX_INFLATION_RATIO`` times the compressed bytes read
    once more than ``INFLATION_CHECK_BYTES`` came out: a decompression bomb (2 MB inflating to 2 GiB)
    is a reader error within seconds instead of keeping a reader busy for minutes."""

    def __init__(self, inflating: BinaryIO, compressed: CountingStream):
        super().__init__(inflating)
        self._compressed = compressed

    def readinto(self, buffer) -> int:  # type: ignore[override]
        n = super().readinto(buffer)
        if self.bytes_read > INFLATION_CHECK_BYTES and self.bytes_read > MAX_INFLATION_RATIO * self._compressed.bytes_read:
            raise MalformedData(f"gzip data inflates more than {MAX_INFLATION_RATIO} times its compressed size "
                                "(a decompression bomb?)", f"byte offset {self._compressed.bytes_read}")
        return n


def text_stream(stream: BinaryIO) -> io.TextIOWrapper:
    """UTF-8 text over a binary stream (a leading BOM is dropped), universal newlines off for csv."""
    buffered = stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(stream, CHUNK)  # type: ignore[arg-type]
    return io.TextIOWrapper(buffered, encoding="utf-8-sig", newline="")


def csv_rows(
    text: io.TextIOBase, *, delimiter: str = ",", skip_blank: bool = True, **dialect: Any
) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line_number, fields)``; blank lines are skipped (as Go's encoding/csv does) unless
    ``skip_blank`` is False (then an empty line is ``[]``). ``dialect``: more ``csv.reader`` options
    (strict quoting by default).

    Raises ``MalformedData`` naming the line for bad quoting or undecodable bytes.
    """
    lines = BoundedLines(text)
    reader = csv.reader(lines, delimiter=delimiter, **{"strict": True, **dialect})
    while True:
        lines.pending = 0
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise MalformedData(f"malformed CSV: {exc}", f"line {reader.line_num}") from None
        except UnicodeDecodeError:
            raise MalformedData("the object is not UTF-8 text", f"near line {reader.line_num + 1}") from None
        if skip_blank and (not row or row == [""]):
            continue
        yield reader.line_num, row


csv.field_size_limit(MAX_RECORD_CHARS)  # the record bound below is the binding one (the default is 131,072)


class BoundedLines:
    """The lines of ``text`` for ``csv.reader``, read with ``readline(n)`` so that one record (one
    line, or the lines of a quoted field spanning several) holds at most ``MAX_RECORD_CHARS``
    characters: a 200 MB object without a newline costs memory proportional to the bound, not to the
    object. ``pending`` counts the characters of the record being read (reset per record)."""

    def __init__(self, text: io.TextIOBase, limit: int = MAX_RECORD_CHARS):
        self._text = text
        self._limit = limit
        self.pending = 0
        self.line = 0

    def __iter__(self) -> "BoundedLines":
        return self

    def __next__(self) -> str:
        line = self._text.readline(self._limit + 1 - self.pending)
        if not line:
            raise StopIteration
        self.line += 1
        self.pending += len(line)
        if self.pending > self._limit:
            raise MalformedData(f"a CSV record is longer than {self._limit} characters", f"line {self.line}")
        return line


class JsonArrayScanner:
    """Yields the elements of one top-level JSON array, reading the stream in chunks.

    Memory holds one chunk plus the element being decoded, never the whole array.
    """

    def __init__(self, stream: BinaryIO, *, chunk: int = CHUNK):
        self._stream = stream
        self._chunk = chunk
        self._decoder = _STRICT
        self._utf8 = codecs.getincrementaldecoder("utf-8-sig")()
        self._buf = ""
        self._pos = 0
        self._eof = False
        self._dropped_bytes = 0  # UTF-8 bytes of text already discarded from the buffer

    # -------------------------------------------------------------- buffer
    def _fill(self, size: int = 0) -> bool:
        """Append one chunk (at least ``size`` bytes when given); False at end of stream."""
        if self._eof:
            return False
        data = self._stream.read(max(self._chunk, size))
        try:
            text = self._utf8.decode(data, final=not data)
        except UnicodeDecodeError:
            raise MalformedData("the object is not UTF-8 text", self._where()) from None
        if not data:
            self._eof = True
        if self._pos > len(self._buf) // 2:
            self._dropped_bytes += len(self._buf[: self._pos].encode("utf-8"))
            self._buf = self._buf[self._pos :]
            self._pos = 0
        self._buf += text
        return bool(data) or bool(text)

    def _where(self) -> str:
        return f"byte offset {self._dropped_bytes + len(self._buf[: self._pos].encode('utf-8'))}"

    def _skip_ws(self) -> str | None:
        """Advance past whitespace; the next character, or None at end of stream."""
        while True:
            buf, pos = self._buf, self._pos
            while pos < len(buf) and buf[pos] in _WS:
                pos += 1
            self._pos = pos
            if pos < len(buf):
                return buf[pos]
            if not self._fill():
                return None

    # -------------------------------------------------------------- scanning
    def __iter__(self) -> Iterator[Any]:
        first = self._skip_ws()
        if first is None:
            raise MalformedData("the object is empty, expected a JSON array", self._where())
        if first != "[":
            raise NotAnArray(self._where())
        self._pos += 1
        if self._skip_ws() == "]":
            self._pos += 1
            self._expect_end()
            return
        while True:
            yield self._element()
            nxt = self._skip_ws()
            if nxt == ",":
                self._pos += 1
                continue
            if nxt == "]":
                self._pos += 1
                self._expect_end()
                return
            if nxt is None:
                raise MalformedData("unexpected end of data inside the JSON array", self._where())
            raise MalformedData(f"expected ',' or ']' in the JSON array, found {nxt!r}", self._where())

    def _more(self) -> bool:
        """Read more of the element starting at ``_pos``: as much again as is buffered of it, so
        an element spanning many chunks is re-decoded O(log n) times, not once per chunk."""
        pending = len(self._buf) - self._pos
        if pending > MAX_ELEMENT_CHARS:
            raise MalformedData(f"a JSON array element is longer than {MAX_ELEMENT_CHARS} characters", self._where())
        return self._fill(min(pending, MAX_ELEMENT_CHARS + 1 - pending))

    def _element(self) -> Any:
        if self._skip_ws() is None:
            raise MalformedData("unexpected end of data inside the JSON array", self._where())
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                cut = exc.msg.startswith("Unterminated string") or exc.pos >= len(self._buf) - _RETRY_MARGIN
                if cut and self._more():
                    continue
                self._pos = exc.pos
                raise MalformedData(f"malformed JSON: {exc.msg}", self._where()) from None
            except RejectedJson as exc:
                raise MalformedData(f"malformed JSON: {exc}", self._where()) from None
            except RecursionError:
                raise MalformedData("malformed JSON: nested too deeply", self._where()) from None
            if end >= len(self._buf) and not self._eof and self._more():
                continue  # a number (or literal) may go on in the next chunk
            self._pos = end
            try:
                return check_depth(value)
            except RejectedJson as exc:
                raise MalformedData(f"malformed JSON: {exc}", self._where()) from None

    def _expect_end(self) -> None:
        nxt = self._skip_ws()
        if nxt is not None:
            raise MalformedData("extra data after the JSON array", self._where())


class NotAnArray(MalformedData):
    """The object's top-level JSON value is not an array."""

    def __init__(self, where: str):
        super().__init__("the object's content is not a JSON array", where)
