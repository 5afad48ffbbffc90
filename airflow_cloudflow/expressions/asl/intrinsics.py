"""Parse ``States.Xxx(arg, …)`` intrinsic calls once; evaluate them many times.

Arguments (ASL spec, "Intrinsic Functions"): string literals in single quotes, numbers,
``true``/``false``/``null``, JSONPaths (``$…``, ``$$…``, ``$var…``) and nested calls, separated by
commas with optional blanks.  Inside a string literal "the characters ``' { } \\`` are reserved
and must be escaped with ``\\``"; an unescaped ``{}`` is a ``States.Format`` placeholder.  Any
other backslash sequence is a syntax error.  Unknown functions, wrong arity and literal arguments
of the wrong type are syntax errors; the rest fails at run time with ``States.IntrinsicFailure``
(see ``asl_functions``).  Nesting is bounded by ``MAX_DEPTH``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from airflow_cloudflow.exceptions import ExpressionSyntaxError
from airflow_cloudflow.expressions.asl.functions import (
    FUNCTIONS, IntrinsicFunction, kind_problem, render_format,
)
from airflow_cloudflow.expressions.asl.jsonpath import JsonPath, parse_path

MAX_DEPTH = 32
MAX_NUMBER_CHARS = 64
PREFIX = "States."


@dataclass(frozen=True)
class ArgLiteral:
    """A literal argument. ``pieces`` is the string split at unescaped ``{}`` (Format)."""

    value: Any
    pieces: tuple[str, ...] | None = None

    def evaluate(self, variables: dict[str, Any]) -> Any:
        return self.value


@dataclass(frozen=True)
class ArgPath:
    """A JSONPath argument (``$…``, ``$$…`` or ``$var…``)."""

    path: JsonPath

    def evaluate(self, variables: dict[str, Any]) -> Any:
        return self.path.evaluate(variables)


Argument = Union[ArgLiteral, ArgPath, "IntrinsicCall"]


@dataclass(frozen=True)
class IntrinsicCall:
    """A compiled call; ``source`` is the call's text.  ``format_pieces`` is set for a
    ``States.Format`` whose template is a literal (split at its unescaped ``{}``)."""

    source: str
    function: IntrinsicFunction
    args: tuple[Argument, ...]
    format_pieces: tuple[str, ...] | None = None

    @property
    def name(self) -> str:
        return self.function.name

    def evaluate(self, variables: dict[str, Any]) -> Any:
        values = [arg.evaluate(variables) for arg in self.args]
        if self.format_pieces is not None:
            return render_format(self.format_pieces, tuple(values[1:]))
        return self.function(*values)

    def paths(self) -> list[JsonPath]:
        """Every JSONPath argument, nested calls included (for validators)."""
        out: list[JsonPath] = []
        for arg in self.args:
            if isinstance(arg, ArgPath):
                out.append(arg.path)
            elif isinstance(arg, IntrinsicCall):
                out.extend(arg.paths())
        return out


def is_intrinsic(source: Any) -> bool:
    """True when ``source`` looks like an intrinsic call (starts with ``States.``)."""
    return isinstance(source, str) and source.lstrip().startswith(PREFIX)


def compile_intrinsic(source: str) -> IntrinsicCall:
    """Compile one intrinsic call (blanks around it allowed); raise ``ExpressionSyntaxError``."""
    if not isinstance(source, str):
        raise ExpressionSyntaxError("an intrinsic call must be a string", repr(source), 0)
    parser = _Parser(source)
    parser.blanks()
    call = parser.call(0)
    parser.blanks()
    if parser.pos != len(source):
        raise parser.error("unexpected text after the intrinsic call")
    return call


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def error(self, message: str, pos: int | None = None) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(message, self.text, self.pos if pos is None else pos)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def blanks(self) -> None:
        while self.peek() in (" ", "\t", "\r", "\n") and self.peek():
            self.pos += 1

    def call(self, depth: int) -> IntrinsicCall:
        if depth > MAX_DEPTH:
            raise self.error("intrinsic calls nested too deeply")
        begin = self.pos
        if not self.text.startswith(PREFIX, self.pos):
            raise self.error("expected an intrinsic call 'States.<Name>(…)'")
        self.pos += len(PREFIX)
        while self.peek().isascii() and self.peek().isalnum():
            self.pos += 1
        name = self.text[begin : self.pos]
        function = FUNCTIONS.get(name)
        if function is None:
            raise self.error(f"unknown intrinsic function {name!r}", begin)
        self.blanks()
        if self.peek() != "(":
            raise self.error(f"expected '(' after {name}")
        self.pos += 1
        args: list[Argument] = []
        starts: list[int] = []
        self.blanks()
        if self.peek() == ")":
            self.pos += 1
        else:
            while True:
                self.blanks()
                starts.append(self.pos)
                args.append(self.argument(depth))
                self.blanks()
                if self.peek() == ",":
                    self.pos += 1
                elif self.peek() == ")":
                    self.pos += 1
                    break
                else:
                    raise self.error("expected ',' or ')'")
        pieces = None
        if function.name == "States.Format" and args and isinstance(args[0], ArgLiteral):
            pieces = args[0].pieces
        call = IntrinsicCall(self.text[begin : self.pos], function, tuple(args), pieces)
        self.check(call, starts, begin)
        return call

    def check(self, call: IntrinsicCall, starts: list[int], begin: int) -> None:
        function, args = call.function, call.args
        count = len(args)
        if count < function.min_args or (function.max_args is not None and count > function.max_args):
            most = "or more" if function.max_args is None else f"to {function.max_args}"
            raise self.error(
                f"{function.name} takes {function.min_args} {most} arguments, got {count}", begin
            )
        for i, arg in enumerate(args):
            if isinstance(arg, ArgLiteral):
                problem = kind_problem(function.kind_of(i), arg.value)
                if problem:
                    raise self.error(f"argument {i + 1} of {function.name}: {problem}", starts[i])
        pieces = call.format_pieces
        if pieces is not None and len(pieces) - 1 != count - 1:
            raise self.error(
                f"States.Format has {len(pieces) - 1} placeholder(s) but {count - 1} argument(s)",
                begin,
            )
        if function.name == "States.JsonMerge" and count == 3:
            last = args[2]
            if isinstance(last, ArgLiteral) and last.value is True:
                raise self.error("States.JsonMerge supports only shallow merging (false)", starts[2])

    def argument(self, depth: int) -> Argument:
        ch = self.peek()
        if ch == "'":
            return self.string()
        if ch == "$":
            path, self.pos = parse_path(self.text, self.pos)
            if path.root == "current":  # pragma: no cover - '$' never yields '@'
                raise self.error("'@' is only valid inside a filter")
            return ArgPath(path)
        if self.text.startswith(PREFIX, self.pos):
            return self.call(depth + 1)
        for word, value in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(word, self.pos):
                end = self.pos + len(word)
                if end >= len(self.text) or not self.text[end].isalnum():
                    self.pos = end
                    return ArgLiteral(value)
        return self.number()

    def string(self) -> ArgLiteral:
        begin = self.pos
        self.pos += 1
        pieces: list[str] = []
        current: list[str] = []
        while True:
            ch = self.peek()
            if ch == "":
                raise self.error("unterminated string literal", begin)
            self.pos += 1
            if ch == "'":
                break
            if ch == "\\":
                escaped = self.peek()
                if escaped not in ("'", "{", "}", "\\"):
                    raise self.error("invalid escape sequence (only \\' \\{ \\} \\\\)", self.pos - 1)
                self.pos += 1
                current.append(escaped)
            elif ch == "{" and self.peek() == "}":
                self.pos += 1
                pieces.append("".join(current))
                current = []
            else:
                current.append(ch)
        pieces.append("".join(current))
        return ArgLiteral("{}".join(pieces), tuple(pieces))

    def number(self) -> ArgLiteral:
        begin = self.pos
        if self.peek() == "-":
            self.pos += 1
        digits = self.pos
        while self.peek().isascii() and self.peek().isdigit():
            self.pos += 1
        if self.pos == digits:
            self.pos = begin
            raise self.error("expected an argument (string, number, boolean, null, path or call)")
        is_float = False
        if self.peek() == ".":
            self.pos += 1
            is_float = True
            while self.peek().isascii() and self.peek().isdigit():
                self.pos += 1
        if self.peek() in ("e", "E"):
            self.pos += 1
            is_float = True
            if self.peek() in ("+", "-"):
                self.pos += 1
            while self.peek().isascii() and self.peek().isdigit():
                self.pos += 1
        token = self.text[begin : self.pos]
        if len(token) > MAX_NUMBER_CHARS:
            raise self.error("number literal too long", begin)
        try:
            return ArgLiteral(float(token) if is_float else int(token))
        except ValueError:
            raise self.error("malformed number", begin) from None
