"""Line-aware safe YAML loading: plain Python values plus a ``(line, column)`` for every JSON pointer.

Only ``yaml.SafeLoader`` is used (``compose`` keeps the node marks; scalars are resolved by the safe
constructor), so no tag can build an arbitrary object. Problems become ``Issue`` data, never
exceptions:

* a syntax error is reported at the parser's mark (``CF-E100``);
* a duplicate key in a mapping is reported at the second key (``CF-E101``);
* aliases are resolved by the composer as shared nodes; the expanded size is computed once per
  distinct node before converting, and a document over ``MAX_NODES`` is refused without expanding
  anything, so a "billion laughs" document costs milliseconds (``CF-E102``);
* tags other than the core schema and non-scalar keys are rejected (``CF-E103``).

Plain scalars resolve by the **YAML 1.2 core schema**, as the tools that write ``*.asl.yaml`` read
them (Workflow Studio, js-yaml, go-yaml v3), not by PyYAML's YAML 1.1 rules: ``Yes``/``No``/``On``/
``Off``/``y``/``n`` are strings (states named ``Yes`` and ``No`` are common), only ``true``/``false``
(any case style of the three spellings) are booleans, ``~``/``null``/empty are null, ``0777`` is
777, ``0o17`` octal, ``0x1F`` hex, ``1e5`` a float, and ``1_000``, ``0b1``, ``1:30`` and ``=`` are
strings. ``*.flow.yaml`` and settings files use the same schema (docs/validation.md says why).
"""

from __future__ import annotations

import datetime
import math
import re
import sys
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..diagnostics import ERROR, Issue, escape_pointer_token

UNPORTABLE_VALUE = "CF-E106"
"""A number JSON cannot carry: NaN, Infinity, an integer over 4,300 digits (``jsonvalues``)."""

MAX_NODES = 100_000
"""Nodes converted per document at most (aliases count every time they are expanded)."""

_SAFE_SCALAR_TAGS = frozenset(
    "tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "timestamp")
)


@dataclass(frozen=True)
class ValueMark:
    """Where a scalar's text starts, its style (``None`` plain, ``'"'``, ``"'"``, ``|``, ``>``)
    and whether it sits on one line (so offsets inside it map to columns)."""

    line: int
    column: int
    style: str | None
    single_line: bool


@dataclass
class YamlDocument:
    """The converted document. ``marks[pointer]`` is the 1-based ``(line, column)`` of the mapping key
    (or of the node itself for list items and the root); ``values[pointer]`` describes scalar values."""

    data: Any = None
    marks: dict[str, tuple[int, int]] = field(default_factory=dict)
    values: dict[str, ValueMark] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)

    def mark(self, pointer: str) -> tuple[int, int]:
        """The mark of ``pointer``, or of its nearest recorded ancestor (``(1, 1)`` at worst)."""
        while True:
            if pointer in self.marks:
                return self.marks[pointer]
            if not pointer:
                return (1, 1)
            pointer = pointer.rsplit("/", 1)[0]

    def value_column(self, pointer: str, offset: int) -> tuple[int, int] | None:
        """The ``(line, column)`` of character ``offset`` inside the scalar at ``pointer``, when the
        scalar is on one line (quoted scalars shift by the opening quote)."""
        mark = self.values.get(pointer)
        if mark is None or not mark.single_line or mark.style in ("|", ">"):
            return None
        shift = 1 if mark.style in ('"', "'") else 0
        return (mark.line, mark.column + shift + offset)


class _TooLarge(Exception):
    pass


MAX_DEPTH = 200
"""Deeper nesting is refused while composing: no definition needs it, and PyYAML's scanner slows
down quadratically with the flow-nesting depth (5,000 ``[`` took seconds)."""


_CORE_SCHEMA = (
    ("bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
    ("int", r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", "-+0123456789"),
    ("float", r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
     "-+.0123456789"),
    ("null", r"~|null|Null|NULL|", ["~", "n", "N", ""]),
    ("merge", r"<<", "<"),
)
"""YAML 1.2 core schema resolution (plus ``<<`` merge keys): tag, pattern, first characters."""


class _DepthLimitedLoader(yaml.SafeLoader):
    """``SafeLoader`` resolving plain scalars by the YAML 1.2 core schema that stops composing past
    ``MAX_DEPTH`` levels (the rest is never scanned)."""

    _depth = 0
    yaml_implicit_resolvers: dict = {}

    def construct_yaml_int(self, node):  # type: ignore[override]
        """1.2 core integers: decimal (leading zeros allowed), ``0o`` octal, ``0x`` hex."""
        text = str(self.construct_scalar(node))
        if text.startswith(("0o", "0x")):
            return int(text[2:], 8 if text[1] == "o" else 16)
        return int(text, 10)

    def compose_node(self, parent, index):  # type: ignore[override]
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(
                    None, None, f"nesting deeper than {MAX_DEPTH} levels is not supported", mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


for _tag, _pattern, _first in _CORE_SCHEMA:
    _DepthLimitedLoader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(f"^(?:{_pattern})$"), list(_first))
_DepthLimitedLoader.add_constructor("tag:yaml.org,2002:int", _DepthLimitedLoader.construct_yaml_int)


class _Converter:
    def __init__(self, loader: yaml.SafeLoader, doc: YamlDocument, file: str | None):
        self.loader = loader
        self.doc = doc
        self.file = file
        self.count = 0

    def issue(self, code: str, message: str, node_mark: Any, pointer: str) -> None:
        self.doc.issues.append(
            Issue(self.file, node_mark.line + 1, node_mark.column + 1, code, message, ERROR, pointer)
        )

    def convert(self, node: yaml.Node, pointer: str) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge()
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, pointer)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                self.issue("CF-E103", f"unsupported YAML tag {node.tag!r}", node.start_mark, pointer)
            out = []
            for i, child in enumerate(node.value):
                child_pointer = f"{pointer}/{i}"
                self.doc.marks.setdefault(child_pointer, _pos(child.start_mark))
                out.append(self.convert(child, child_pointer))
            return out
        return self._scalar(node, pointer)

    def _mapping(self, node: yaml.MappingNode, pointer: str) -> dict[str, Any]:
        if node.tag not in ("tag:yaml.org,2002:map",):
            self.issue("CF-E103", f"unsupported YAML tag {node.tag!r}", node.start_mark, pointer)
        try:
            self.loader.flatten_mapping(node)  # resolves "<<" merge keys, as SafeLoader does
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or node.start_mark
            self.issue("CF-E103", f"invalid merge key: {getattr(exc, 'problem', exc)}", mark, pointer)
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.issue("CF-E103", "mapping keys must be plain strings", key_node.start_mark, pointer)
                continue
            key = str(key_node.value)
            child_pointer = f"{pointer}/{escape_pointer_token(key)}"
            if key in out:
                self.issue("CF-E101", f"duplicate key {key!r}", key_node.start_mark, child_pointer)
                continue
            self.doc.marks[child_pointer] = _pos(key_node.start_mark)
            out[key] = self.convert(value_node, child_pointer)
        return out

    def _scalar(self, node: yaml.ScalarNode, pointer: str) -> Any:
        start, end = node.start_mark, node.end_mark
        self.doc.values[pointer] = ValueMark(
            start.line + 1, start.column + 1, node.style, start.line == end.line
        )
        if node.tag not in _SAFE_SCALAR_TAGS:
            self.issue("CF-E103", f"unsupported YAML tag {node.tag!r}", start, pointer)
            return node.value
        try:
            value = self.loader.construct_object(node)
        except ValueError as exc:  # an integer Python cannot convert (over 4,300 digits)
            self.issue(UNPORTABLE_VALUE, f"the number cannot be carried as JSON ({len(node.value)} characters; "
                       "an integer may have at most 4,300 digits)", start, pointer)
            return None
        if isinstance(value, (datetime.date, datetime.datetime)):
            return node.value  # keep timestamps as the text written (JSON has no dates)
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > sys.float_info.max:
            self.issue(UNPORTABLE_VALUE, f"the integer of {len(node.value)} digits is beyond the range of a double "
                       "(a JSON reader such as Go's cannot read it)", start, pointer)
            return None
        if isinstance(value, float) and not math.isfinite(value):
            self.issue(UNPORTABLE_VALUE, f"{node.value!r} is not a JSON number (NaN and Infinity are not JSON)",
                       start, pointer)
            return None
        return value


def _check_expanded_size(root: yaml.Node) -> None:
    """Raise ``_TooLarge`` when converting ``root`` would visit more than ``MAX_NODES`` nodes: each
    distinct (shared, aliased) node is sized once, so an alias bomb is refused before any expansion."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        known = sizes.get(id(node))
        if known is not None:
            if known < 0:  # an alias of a node still being sized: it contains itself
                raise _TooLarge()
            return known
        sizes[id(node)] = -1
        if isinstance(node, yaml.MappingNode):
            total = 1 + sum(size(k) - 1 + size(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(child) for child in node.value)
        else:
            total = 1
        if total > MAX_NODES:
            raise _TooLarge()
        sizes[id(node)] = total
        return total

    size(root)


def _pos(mark: Any) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1)


def load_yaml(text: str, file: str | None = None) -> YamlDocument:
    """Compose ``text`` with ``SafeLoader`` and convert it; never raises for bad input."""
    doc = YamlDocument()
    loader = None
    try:
        loader = _DepthLimitedLoader(text)
        node = loader.get_single_node()
        if node is None:
            return doc
        _check_expanded_size(node)
        doc.marks[""] = _pos(node.start_mark)
        doc.data = _Converter(loader, doc, file).convert(node, "")
    except _TooLarge:
        doc.data = None
        doc.issues.append(
            Issue(file, 1, 1, "CF-E102", f"document expands to more than {MAX_NODES} nodes (alias bomb?)", ERROR, "")
        )
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
        doc.data = None
        doc.issues.append(Issue(file, line, col, "CF-E100", f"YAML syntax error: {message}", ERROR, ""))
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        doc.data = None
        doc.issues.append(Issue(file, 1, 1, "CF-E100", f"YAML syntax error: {exc}", ERROR, ""))
    finally:
        if loader is not None:
            loader.dispose()
    return doc
