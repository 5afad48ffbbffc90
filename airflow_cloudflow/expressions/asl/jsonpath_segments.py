"""The parsed steps of an ASL JSONPath (``.a``, ``[0]``, ``[*]``, ``[1:3]``, ``..a``, filters).

``render()`` gives Jayway's normalised form (``['a']``, ``[0]``), which AWS prints in its causes,
e.g. ``No results for path: $['a'][0]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from airflow_cloudflow.expressions.asl.jsonpath_filter import Predicate


@dataclass(frozen=True)
class Names:
    """``.a`` / ``['a']`` (one name, definite) or ``['a','b']`` (a union)."""

    names: tuple[str, ...]

    def render(self) -> str:
        return "[" + ",".join("'" + n + "'" for n in self.names) + "]"


@dataclass(frozen=True)
class Indexes:
    """``[0]`` / ``[-1]`` (definite) or ``[0,2]`` (a union)."""

    indexes: tuple[int, ...]

    def render(self) -> str:
        return "[" + ",".join(str(i) for i in self.indexes) + "]"


@dataclass(frozen=True)
class Slice:
    """``[start:end]`` / ``[start:end:step]``, Python semantics."""

    start: int | None
    end: int | None
    step: int | None

    def render(self) -> str:
        parts = ["" if v is None else str(v) for v in (self.start, self.end)]
        if self.step is not None:
            parts.append(str(self.step))
        return "[" + ":".join(parts) + "]"


@dataclass(frozen=True)
class Wildcard:
    """``.*`` / ``[*]``: every member value or element."""

    def render(self) -> str:
        return "[*]"


@dataclass(frozen=True)
class DeepScan:
    """``..name`` / ``..*``: the node and all its descendants, then ``name`` (or all)."""

    name: str | None

    def render(self) -> str:
        return "..[*]" if self.name is None else "..['" + self.name + "']"


@dataclass(frozen=True)
class Filter:
    """``[?(<predicate>)]``: the elements (or member values) for which the predicate holds."""

    predicate: Predicate
    text: str

    def render(self) -> str:
        return "[?(" + self.text + ")]"


Segment = Union[Names, Indexes, Slice, Wildcard, DeepScan, Filter]


def is_definite(segment: Segment) -> bool:
    """True for a single name or a single index."""
    if isinstance(segment, Names):
        return len(segment.names) == 1
    if isinstance(segment, Indexes):
        return len(segment.indexes) == 1
    return False


def jayway(segments: "tuple[Segment, ...]") -> str:
    """Jayway's normalised path text, e.g. ``$['a']['b'][0]``."""
    return "$" + "".join(s.render() for s in segments)
