"""Memory bounds shared by every expression evaluator (docs/limits.md "Data and storage bounds").

Time bounds alone do not bound memory: one built-in call can build a gigabyte string in well under a
second. So no expression evaluation (JSONata, ASL intrinsics, CloudFlow built-ins) may build a single
string longer than ``MAX_STRING_CHARS``; the size is computed *before* the string is built wherever it
can be, so memory stays proportional to the bound, not to what the data asks for.
"""

from __future__ import annotations

from typing import Any

MAX_STRING_CHARS = 8 * 1024 * 1024
"""8 Mi characters: 32 times AWS's 256 KiB state payload, far more than any real template needs."""


def string_too_long(what: str, size: int) -> str | None:
    """The error detail when a string of ``size`` characters may not be built, else None."""
    if size > MAX_STRING_CHARS:
        return f"{what} would build a string of {size} characters; the limit is {MAX_STRING_CHARS}"
    return None


def text_size(value: Any, limit: int = MAX_STRING_CHARS) -> int:
    """A lower bound of the characters ``value`` renders to (its strings, keys and one per scalar),
    counted with shared references counted each time; stops early once above ``limit``."""
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item) + 2
        elif isinstance(item, dict):
            total += 2 + len(item)
            for key, child in item.items():
                total += len(str(key)) + 3
                stack.append(child)
        elif isinstance(item, (list, tuple)):
            total += 2 + len(item)
            stack.extend(item)
        else:
            total += 1
    return total
