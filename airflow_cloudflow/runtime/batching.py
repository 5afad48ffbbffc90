"""ItemBatcher: group items by count and by bytes, streaming.

Conformance rule 3: "A batch's size is the length of the compact JSON text (separators ``,`` and
``:``, no spaces) of ``{"BatchInput": <BatchInput, or null when not configured>, "Items": [...]}``.
A batch takes items while the size stays ``<=`` MaxInputBytesPerBatch, and always holds at least
one item. MaxItemsPerBatch applies as well." Bytes are UTF-8 bytes of that text with non-ASCII
characters written as is (docs/semantics.md).
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator

from ..jsonvalues import utf8_length

_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def json_size(value: Any) -> int:
    """UTF-8 byte length of the compact JSON text of ``value`` (a lone surrogate counts as the
    3 bytes of the U+FFFD a writer puts in its place)."""
    return utf8_length(_encode(value))


def batch_overhead(batch_input: Any) -> int:
    """Size of ``{"BatchInput":…,"Items":[]}``: what every batch costs before its items."""
    return json_size({"BatchInput": batch_input, "Items": []})


def iter_batches(
    items: Iterable[Any],
    *,
    max_items: int | None = None,
    max_bytes: int | None = None,
    batch_input: Any = None,
) -> Iterator[tuple[int, list[Any]]]:
    """Yield ``(index of the batch's first item, items)``; never an empty batch."""
    max_items = max_items if max_items and max_items > 0 else None
    max_bytes = max_bytes if max_bytes and max_bytes > 0 else None
    batch: list[Any] = []
    first = 0
    index = 0
    if max_bytes is None:
        for index, item in enumerate(items):
            if max_items is not None and len(batch) >= max_items:
                yield first, batch
                batch, first = [], index
            batch.append(item)
        if batch:
            yield first, batch
        return
    base = batch_overhead(batch_input)
    size = base
    for index, item in enumerate(items):
        item_size = json_size(item)
        added = item_size + (1 if batch else 0)  # the comma between items
        if batch and (size + added > max_bytes or (max_items is not None and len(batch) >= max_items)):
            yield first, batch
            batch, first, size = [], index, base
            added = item_size
        batch.append(item)
        size += added
    if batch:
        yield first, batch
