"""JSONPath filter predicates: ``[?(@.price < 10 && @.tag == 'x' || !@.gone)]``.

Operands are ``@…`` (the element under test), ``$…`` paths and JSON literals (numbers,
``'…'``/``"…"`` strings, ``true``, ``false``, ``null``).  Operators: ``== != < <= > >=``,
``&&``, ``||``, ``!`` and parentheses.  A bare path tests existence.  A path that matches nothing
makes its comparison false; ordering compares numbers with numbers and strings with strings only
(anything else is false).  Nesting is bounded (``MAX_DEPTH``) so hostile text cannot recurse
without end.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Union

from airflow_cloudflow.exceptions import ExpressionSyntaxError, FlowError

MAX_DEPTH = 32
_MISSING = object()
_OPERATORS = ("==", "!=", "<=", ">=", "<", ">")


@dataclass(frozen=True)
class Value:
    """An operand: a JSON literal (``path`` None) or a compiled path."""

    literal: Any = None
    path: Any = None  # JsonPath; typed loosely to avoid an import cycle

    def resolve(self, variables: dict[str, Any]) -> Any:
        if self.path is None:
            return self.literal
        try:
            result = self.path.evaluate(variables)
        except FlowError:
            return _MISSING
        if not self.path.definite:
            return result[0] if len(result) == 1 else (_MISSING if not result else result)
        return result


@dataclass(frozen=True)
class Compare:
    left: Value
    op: str | None  # None: existence / truthiness test of ``left``
    right: Value | None = None

    def holds(self, variables: dict[str, Any]) -> bool:
        a = self.left.resolve(variables)
        if self.op is None:
            return a is not _MISSING and (a is not False if self.left.path is None else True)
        assert self.right is not None
        b = self.right.resolve(variables)
        if a is _MISSING or b is _MISSING:
            return False
        if self.op in ("==", "!="):
            return _equal(a, b) == (self.op == "==")
        if not _orderable(a, b):
            return False
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[self.op]


@dataclass(frozen=True)
class Not:
    operand: "Node"

    def holds(self, variables: dict[str, Any]) -> bool:
        return not self.operand.holds(variables)


@dataclass(frozen=True)
class Logical:
    op: str  # "&&" | "||"
    operands: tuple["Node", ...]

    def holds(self, variables: dict[str, Any]) -> bool:
        if self.op == "&&":
            return all(o.holds(variables) for o in self.operands)
        return any(o.holds(variables) for o in self.operands)


Node = Union[Compare, Not, Logical]


@dataclass(frozen=True)
class Predicate:
    """A compiled filter; ``holds(element, variables)`` tests one array element."""

    node: Node

    def holds(self, element: Any, variables: dict[str, Any]) -> bool:
        return self.node.holds({**variables, "@": element})


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _equal(a: Any, b: Any) -> bool:
    if _is_number(a) and _is_number(b):
        return a == b
    return type(a) is type(b) and a == b


def _orderable(a: Any, b: Any) -> bool:
    return (_is_number(a) and _is_number(b)) or (isinstance(a, str) and isinstance(b, str))


PathParser = Callable[[str, int, int], "tuple[Any, int]"]


def parse_predicate(
    text: str, start: int, parse_path: PathParser, depth: int = 0
) -> tuple[Predicate, int]:
    """Parse a predicate from ``text[start]``; return it and the offset of the closing ``)``.
    ``depth`` is the nesting already used by enclosing paths/filters (one shared budget)."""
    parser = _Parser(text, start, parse_path)
    node = parser.expression(depth)
    parser.blanks()
    return Predicate(node), parser.pos


class _Parser:
    def __init__(self, text: str, pos: int, parse_path: PathParser):
        self.text = text
        self.pos = pos
        self.parse_path = parse_path

    def error(self, message: str) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(message, self.text, self.pos)

    def blanks(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def take(self, token: str) -> bool:
        self.blanks()
        if self.text.startswith(token, self.pos):
            self.pos += len(token)
            return True
        return False

    def expression(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.error("filter nested too deeply")
        operands = [self.conjunction(depth)]
        while self.take("||"):
            operands.append(self.conjunction(depth))
        return operands[0] if len(operands) == 1 else Logical("||", tuple(operands))

    def conjunction(self, depth: int) -> Node:
        operands = [self.unary(depth)]
        while self.take("&&"):
            operands.append(self.unary(depth))
        return operands[0] if len(operands) == 1 else Logical("&&", tuple(operands))

    def unary(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.error("filter nested too deeply")
        if self.take("!"):
            if self.text.startswith("=", self.pos):
                raise self.error("unexpected '!='")
            return Not(self.unary(depth + 1))
        if self.take("("):
            node = self.expression(depth + 1)
            if not self.take(")"):
                raise self.error("expected ')'")
            return node
        left = self.operand(depth)
        self.blanks()
        for op in _OPERATORS:
            if self.text.startswith(op, self.pos):
                self.pos += len(op)
                return Compare(left, op, self.operand(depth))
        return Compare(left, None)

    def operand(self, depth: int) -> Value:
        self.blanks()
        ch = self.text[self.pos] if self.pos < len(self.text) else ""
        if ch in ("@", "$"):
            path, self.pos = self.parse_path(self.text, self.pos, depth + 1)
            return Value(path=path)
        if ch in ("'", '"'):
            return Value(literal=self._string(ch))
        for word, value in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return Value(literal=value)
        return Value(literal=self._number())

    def _string(self, quote: str) -> str:
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            self.pos += 1
            if ch == quote:
                return "".join(out)
            if ch == "\\" and self.pos < len(self.text):
                ch = self.text[self.pos]
                self.pos += 1
            out.append(ch)
        raise self.error("unterminated string")

    def _number(self) -> Any:
        begin = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in "+-0123456789.eE":
            self.pos += 1
        token = self.text[begin : self.pos]
        try:
            value = json.loads(token) if token else None
        except ValueError:
            value = None
        if not _is_number(value) or len(token) > 40:
            self.pos = begin
            raise self.error("expected an operand")
        return value
