"""ASL JSONPath: compile a path once, evaluate it many times (see docs/asl-expressions.md).

"A Path is a string, beginning with ``$``, used to identify components with a JSON text";
``$$`` addresses the context object, and ``$name`` a workflow variable.  The supported subset is
the one Step Functions documents and the corpus uses: ``$.a.b``, ``$['a b']``, ``$.a[0]``,
``$.a[-1]``, ``$.a[*]``, ``$.a.*``, ``$.a[1:3]``, unions ``[0,2]``/``['a','b']``, deep scan
``$..a`` and filters ``[?(@.x == 1 && @.y)]``.

As in Jayway's ``PathCompiler`` (which AWS uses): a ``.`` may be followed by a bracket token, so
``$.[0]``, ``$.a.[0].b`` and ``$.[*].['a','b']`` mean ``$[0]``, ``$.a[0].b`` and
``$[*]['a','b']``; blanks around a whole path are trimmed (``"$$.Execution.Name "``); a ``.``
followed by another ``.`` after ``..``, a trailing ``.`` and unquoted words in filters
(``[?(@.x==Failure)]``) stay errors.

Paths without ``*``, ``..``, slices, unions or filters are *definite*: they name one node and a
missing node is an error carrying Jayway's text (the library AWS uses), e.g.
``No results for path: $['a']['b']`` or ``Missing property in path $['no']``.  Indefinite paths
return the list of matches (possibly empty).

``variables`` is ``{"input": <state input>, "context": <context object>, "variables": {…}}``.
The ``InputPath``/``ResultPath``/``OutputPath`` helpers are implemented in ``asl_io`` and
re-exported here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from airflow_cloudflow.exceptions import ExpressionSyntaxError, FlowError
from airflow_cloudflow.expressions.asl.functions import json_type
from airflow_cloudflow.expressions.asl.jsonpath_filter import MAX_DEPTH, parse_predicate
from airflow_cloudflow.expressions.asl.jsonpath_segments import (
    DeepScan, Filter, Indexes, Names, Segment, Slice, Wildcard, is_definite, jayway,
)

RUNTIME = "States.Runtime"
MAX_PATH_LENGTH = 10_000

_TRIMMED = " "  # Jayway's CharacterIndex.trim() drops spaces (only) around the whole path
_STOP = frozenset(".[]()',\"=<>!&|") | frozenset(" \t\r\n")


class PathNotFound(FlowError):
    """A definite path matched nothing; ``detail`` is Jayway's message (``No results for path: …``).

    Callers re-word it for their field (``Invalid path '…' : …`` for InputPath/OutputPath,
    ``The JSONPath '…' specified for the field '…' could not be found in the input '…'`` for
    payload templates)."""

    def __init__(self, detail: str, path: str | None = None):
        super().__init__(RUNTIME, detail)
        self.path = path  # the source of the path that failed (set by ``JsonPath.evaluate``)


def compact_json(value: Any) -> str:
    """JSON as AWS prints it in causes: no spaces, non-ASCII kept."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# --------------------------------------------------------------------------- compiled path


@dataclass(frozen=True)
class JsonPath:
    """A compiled path. ``root`` is ``input`` (``$``), ``context`` (``$$``), ``variable``
    (``$name``, then ``variable`` holds the name) or ``current`` (``@``, inside filters)."""

    source: str
    root: str
    segments: tuple[Segment, ...]
    variable: str | None = None

    @property
    def definite(self) -> bool:
        """True when the path can name at most one node (its result is not a list)."""
        return all(is_definite(s) for s in self.segments)

    @property
    def is_reference(self) -> bool:
        """A *Reference Path*: ``$`` root, only single names and single indexes."""
        return self.root == "input" and self.definite

    def root_value(self, variables: dict[str, Any]) -> Any:
        if self.root == "input":
            return variables.get("input")
        if self.root == "context":
            return variables.get("context")
        if self.root == "current":
            return variables.get("@")
        store = variables.get("variables") or {}
        if self.variable not in store:
            raise PathNotFound(f"The variable '${self.variable}' is not defined")
        return store[self.variable]

    def evaluate(self, variables: dict[str, Any]) -> Any:
        """The node this path names in ``variables`` (a list of matches when indefinite)."""
        try:
            value = self.root_value(variables)
            if self.definite:
                return _walk_definite(self.segments, value, variables)
        except PathNotFound as exc:
            if exc.path is None:
                exc.path = self.source
            raise
        nodes = [value]
        for segment in self.segments:
            nodes = [hit for node in nodes for hit in _select(segment, node, variables)]
        return nodes


def _walk_definite(segments: tuple[Segment, ...], value: Any, variables: dict[str, Any]) -> Any:
    last = len(segments) - 1
    for i, segment in enumerate(segments):
        here = segments[: i + 1]
        if isinstance(segment, Names):
            name = segment.names[0]
            if not isinstance(value, dict):
                raise PathNotFound(
                    f"Expected to find an object with property {segment.render()} in path "
                    f"{jayway(segments[:i])} but found '{json_type(value)}'"
                )
            if name not in value:
                if i == last:
                    raise PathNotFound(f"No results for path: {jayway(here)}")
                raise PathNotFound(f"Missing property in path {jayway(here)}")
            value = value[name]
        else:  # Indexes with one index
            index = segment.indexes[0]  # type: ignore[union-attr]
            if not isinstance(value, list):
                raise PathNotFound(
                    f"Filter: {segment.render()} can only be applied to arrays. "
                    f"Current context is: {compact_json(value)}"
                )
            if not -len(value) <= index < len(value):
                raise PathNotFound(f"No results for path: {jayway(here)}")
            value = value[index]
    return value


def _children(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return list(node.values())
    if isinstance(node, list):
        return list(node)
    return []


def _descendants(node: Any) -> list[Any]:
    out = [node]
    stack = _children(node)[::-1]
    while stack:
        item = stack.pop()
        out.append(item)
        stack.extend(_children(item)[::-1])
    return out


def _select(segment: Segment, node: Any, variables: dict[str, Any]) -> list[Any]:
    if isinstance(segment, Names):
        return [node[n] for n in segment.names if isinstance(node, dict) and n in node]
    if isinstance(segment, Indexes):
        if not isinstance(node, list):
            return []
        return [node[i] for i in segment.indexes if -len(node) <= i < len(node)]
    if isinstance(segment, Slice):
        return node[segment.start : segment.end : segment.step] if isinstance(node, list) else []
    if isinstance(segment, Wildcard):
        return _children(node)
    if isinstance(segment, DeepScan):
        found = _descendants(node)
        if segment.name is None:
            return found[1:]
        return [d[segment.name] for d in found if isinstance(d, dict) and segment.name in d]
    # Filter
    return [c for c in _children(node) if segment.predicate.holds(c, variables)]


# --------------------------------------------------------------------------- parser


def compile_path(source: str) -> JsonPath:
    """Compile a whole string as a path; raise ``ExpressionSyntaxError`` if it is not one."""
    if not isinstance(source, str):
        raise ExpressionSyntaxError("a path must be a string", repr(source), 0)
    start = len(source) - len(source.lstrip(_TRIMMED))
    path, end = parse_path(source, start)
    if path.root == "current":
        raise ExpressionSyntaxError("'@' is only valid inside a filter", source, start)
    if end != len(source.rstrip(_TRIMMED)):
        raise ExpressionSyntaxError("unexpected character after the path", source, end)
    return path


def compile_reference_path(source: str) -> JsonPath:
    """A *Reference Path* (ResultPath): ``$`` followed by single names and indexes only."""
    path = compile_path(source)
    if not path.is_reference:
        raise ExpressionSyntaxError(
            "a reference path may only hold single names and indexes after '$'", source, 0
        )
    return path


def parse_path(text: str, start: int, depth: int = 0) -> tuple[JsonPath, int]:
    """Parse a path beginning at ``text[start]``; return it and the offset just after it.

    Stops at the first character that cannot continue a path (``,``, ``)``, a blank …), so the
    intrinsic-call parser can use it for arguments."""
    if len(text) - start > MAX_PATH_LENGTH:
        raise ExpressionSyntaxError("path too long", text, start)
    if depth > MAX_DEPTH:
        raise ExpressionSyntaxError("filters nested too deeply", text, start)
    parser = _PathParser(text, start, depth)
    return parser.parse(), parser.pos


class _PathParser:
    def __init__(self, text: str, pos: int, depth: int):
        self.text = text
        self.start = pos
        self.pos = pos
        self.depth = depth

    def error(self, message: str, pos: int | None = None) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(message, self.text, self.pos if pos is None else pos)

    def peek(self, offset: int = 0) -> str:
        i = self.pos + offset
        return self.text[i] if i < len(self.text) else ""

    def parse(self) -> JsonPath:
        if self.peek() not in ("$", "@"):
            raise self.error("a path must start with '$'")
        root, variable = ("current" if self.peek() == "@" else "input"), None
        self.pos += 1
        if root == "current":
            pass
        elif self.peek() == "$":
            self.pos += 1
            root = "context"
        elif self.peek().isalpha() or self.peek() == "_":
            root, variable = "variable", self._name()
        segments: list[Segment] = []
        while self.pos < len(self.text):
            ch = self.peek()
            if ch == "." and self.peek(1) == ".":
                self.pos += 2
                segments.append(self._deep_scan())
            elif ch == ".":
                self.pos += 1
                if self.peek() == "*":
                    self.pos += 1
                    segments.append(Wildcard())
                elif self.peek() == "[":  # Jayway: '.' then any token, so '$.[0]' is '$[0]'
                    segments.append(self._bracket())
                else:
                    segments.append(Names((self._name(),)))
            elif ch == "[":
                segments.append(self._bracket())
            else:
                break
        source = self.text[self.start : self.pos]
        return JsonPath(source, root, tuple(segments), variable)

    def _name(self) -> str:
        begin = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in _STOP:
            self.pos += 1
        if self.pos == begin:
            raise self.error("expected a property name")
        name = self.text[begin : self.pos]
        if "*" in name:
            raise self.error("'*' must stand alone", begin)
        return name

    def _deep_scan(self) -> DeepScan:
        if self.peek() == "*":
            self.pos += 1
            return DeepScan(None)
        if self.peek() == "[":
            bracket = self._bracket()
            if isinstance(bracket, Names) and len(bracket.names) == 1:
                return DeepScan(bracket.names[0])
            if isinstance(bracket, Wildcard):
                return DeepScan(None)
            raise self.error("'..' supports a name or '*' only")
        return DeepScan(self._name())

    def _bracket(self) -> Segment:
        self.pos += 1  # '['
        self._blanks()
        ch = self.peek()
        if ch == "*":
            self.pos += 1
            segment: Segment = Wildcard()
        elif ch in ("'", '"'):
            names = [self._quoted()]
            while self._comma():
                names.append(self._quoted())
            segment = Names(tuple(names))
        elif ch == "?":
            segment = self._filter()
        else:
            segment = self._numeric()
        self._blanks()
        if self.peek() != "]":
            raise self.error("expected ']'")
        self.pos += 1
        return segment

    def _blanks(self) -> None:
        while self.peek() in (" ", "\t"):
            self.pos += 1

    def _comma(self) -> bool:
        self._blanks()
        if self.peek() != ",":
            return False
        self.pos += 1
        self._blanks()
        return True

    def _quoted(self) -> str:
        quote = self.peek()
        if quote not in ("'", '"'):
            raise self.error("expected a quoted name")
        self.pos += 1
        out: list[str] = []
        while True:
            ch = self.peek()
            if ch == "":
                raise self.error("unterminated quoted name")
            self.pos += 1
            if ch == quote:
                return "".join(out)
            if ch == "\\" and self.peek() in (quote, "\\"):
                ch = self.peek()
                self.pos += 1
            out.append(ch)

    def _int(self) -> int | None:
        begin = self.pos
        if self.peek() == "-":
            self.pos += 1
        while self.peek().isdigit() and self.peek().isascii():
            self.pos += 1
        digits = self.text[begin : self.pos]
        if digits in ("", "-"):
            self.pos = begin
            return None
        if len(digits) > 18:
            raise self.error("index too large", begin)
        return int(digits)

    def _numeric(self) -> Segment:
        first = self._int()
        self._blanks()
        if self.peek() == ":":
            bounds = [first]
            while self.peek() == ":" and len(bounds) < 3:
                self.pos += 1
                self._blanks()
                bounds.append(self._int())
                self._blanks()
            while len(bounds) < 3:
                bounds.append(None)
            if bounds[2] == 0:
                raise self.error("slice step cannot be 0")
            return Slice(bounds[0], bounds[1], bounds[2])
        if first is None:
            raise self.error("expected an index, a quoted name, '*' or a filter")
        indexes = [first]
        while self._comma():
            value = self._int()
            if value is None:
                raise self.error("expected an index")
            indexes.append(value)
        return Indexes(tuple(indexes))

    def _filter(self) -> Filter:
        self.pos += 1  # '?'
        self._blanks()
        if self.peek() != "(":
            raise self.error("expected '(' after '?'")
        begin = self.pos + 1
        predicate, end = parse_predicate(self.text, begin, parse_path, self.depth + 1)
        if end >= len(self.text) or self.text[end] != ")":
            raise self.error("expected ')' closing the filter", end)
        self.pos = end + 1
        return Filter(predicate, self.text[begin:end].strip())


__all__ = [
    "DeepScan",
    "Filter",
    "Indexes",
    "JsonPath",
    "Names",
    "Segment",
    "Slice",
    "Wildcard",
    "PathNotFound",
    "compact_json",
    "compile_path",
    "compile_reference_path",
    "parse_path",
]
