"""``ReaderConfig.InputType: PARQUET``: one item per row, as a JSON object keyed by column name.

"PARQUET: one item per row" (asl-distributed-map.md §5). pyarrow reads Parquet; it is heavy, so it
is the optional extra ``parquet`` (``pip install 'airflow-cloudflow[parquet]'``). Without it the
linter reports ``ASL-E331`` and a run fails with ``States.ItemReaderFailed`` saying what to install.

Parquet needs random access (the footer comes last), so the object is streamed to a temporary file
first and then read one row group batch at a time: memory holds one batch, never the file.
Values become JSON [INFERRED: AWS documents no mapping]: integers, floats, strings, booleans and
nulls as they are; lists and structs as arrays and objects; timestamps and dates as ISO 8601 text;
decimals as numbers; binary as base64 text.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

from ...exceptions import FlowError
from ...extras import PARQUET_HINT
from ..base import ObjectStore
from .cloudflow import opened

BATCH_ROWS = 1024


def json_value(value: Any) -> Any:
    """A value pyarrow gave, as JSON."""
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def parquet_items(store: ObjectStore, bucket: str, key: str, fail: Callable[[str], FlowError]) -> Iterator[dict[str, Any]]:
    """The rows of one Parquet object, in file order."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise fail(PARQUET_HINT) from None
    with tempfile.TemporaryFile(prefix="cloudflow-parquet-") as local:
        with opened(store, bucket, key, fail) as stream:
            shutil.copyfileobj(stream, local, 1024 * 1024)
        local.seek(0)
        try:
            table = pq.ParquetFile(local)
            batches = table.iter_batches(batch_size=BATCH_ROWS)
            for batch in batches:
                for row in batch.to_pylist():
                    yield {name: json_value(value) for name, value in row.items()}
        except (OSError, ValueError) as exc:  # pyarrow.ArrowInvalid is a ValueError
            raise fail(f"cannot read s3://{bucket}/{key} as Parquet: {exc}") from None
