"""CloudFlow's expression language: tokenizer, parser and closure compiler (no ``eval``).

"It is CloudFlow's own expression language: variable paths plus function calls" (§2.4), with the
Choice operators ``>, >=, <, <=, ==, !=, ||, &&`` (§1.3). One grammar serves ``.$`` values,
``ItemsPath``, ``Seconds.$`` and Choice ``Condition``s. ``compile_expression`` parses a source text
once into a tree of closures; ``CloudFlowExpression.evaluate`` runs them (a path lookup is a few
dict gets). See ``docs/expressions.md`` for the grammar and every decision taken where the spec is
silent.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, NamedTuple

from ..exceptions import ErrorCodes, ExpressionSyntaxError, FlowError
from .builtins import BUILTINS, EvaluationError, is_number, json_equal, type_name

VARIABLES = frozenset({"Input", "Output", "Context", "Global", "Item"})
"""The variable roots: ``$Input``, ``$Output``, ``$Context``, ``$Global``, ``$Item``."""

MAX_FUNCTION_NESTING = 10
""""At most 10 levels of nested function calls per expression" (§2.3)."""

MAX_NESTING = 64
"""Bound on any nesting (parentheses, arrays, maps, ``!``, calls) so parsing never recurses deeply."""

Runner = Callable[[Any], Any]

# --------------------------------------------------------------------------- tokens


class _Token(NamedTuple):
    kind: str  # path | string | number | name | op | punct | end
    value: Any
    position: int


_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INDEX = re.compile(r"[ \t]*([0-9]+)[ \t]*\]")
_TWO_CHAR_OPS = frozenset({"==", "!=", ">=", "<=", "&&", "||"})
_ONE_CHAR_OPS = frozenset({">", "<", "!"})
_PUNCTUATION = frozenset("()[]{},:")
_WHITESPACE = frozenset(" \t\r\n")
_COMPARISONS = frozenset({"==", "!=", ">", ">=", "<", "<="})


def _is_name_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class _Lexer:
    """Turns a source text into tokens; every error carries the offending 0-based position."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, message: str, position: int) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(message, self.source, position)

    def tokens(self) -> list[_Token]:
        src, i, out = self.source, 0, []
        n = len(src)
        while i < n:
            ch = src[i]
            if ch in _WHITESPACE:
                i += 1
            elif ch == "$":
                token, i = self._path(i)
                out.append(token)
            elif ch in "\"'`":
                value, end = self._string(i)
                out.append(_Token("string", value, i))
                i = end
            elif ch.isdigit() or (ch == "-" and i + 1 < n and src[i + 1].isdigit()):
                value, end = self._number(i)
                out.append(_Token("number", value, i))
                i = end
            elif ch.isalpha() or ch == "_":
                match = _NAME.match(src, i)
                if match is None or (match.end() < n and _is_name_char(src[match.end()])):
                    raise self.fail(f"unexpected character {ch!r}", i)
                out.append(_Token("name", match.group(), i))
                i = match.end()
            elif src[i : i + 2] in _TWO_CHAR_OPS:
                out.append(_Token("op", src[i : i + 2], i))
                i += 2
            elif ch in _ONE_CHAR_OPS:
                out.append(_Token("op", ch, i))
                i += 1
            elif ch in _PUNCTUATION:
                out.append(_Token("punct", ch, i))
                i += 1
            else:
                hint = " (use == to compare)" if ch == "=" else ""
                raise self.fail(f"unexpected character {ch!r}{hint}", i)
        out.append(_Token("end", None, n))
        return out

    def _string(self, start: int) -> tuple[str, int]:
        """``"…"`` takes JSON escapes; ``'…'`` and backtick strings are raw (no escapes)."""
        src, quote = self.source, self.source[start]
        if quote == '"':
            try:
                return json.decoder.scanstring(src, start + 1, False)
            except json.JSONDecodeError as exc:
                if exc.msg.startswith("Unterminated"):
                    raise self.fail("unterminated string", start) from None
                raise self.fail(f"bad string escape ({exc.msg})", exc.pos) from None
        end = src.find(quote, start + 1)
        if end < 0:
            raise self.fail("unterminated string", start)
        return src[start + 1 : end], end + 1

    def _number(self, start: int) -> tuple[int | float, int]:
        """JSON numbers: ``12`` stays an int, ``12.5``/``1e3`` are floats, ``-3`` is negative."""
        src = self.source
        match = _NUMBER.match(src, start)
        end = match.end() if match else start
        if match is None or (end < len(src) and (_is_name_char(src[end]) or src[end] == ".")):
            raise self.fail("malformed number", start)
        text = match.group()
        try:
            value: int | float = float(text) if any(c in text for c in ".eE") else int(text)
        except ValueError:
            raise self.fail("number too long", start) from None
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail("number out of range", start)
        return value, end

    def _path(self, start: int) -> tuple[_Token, int]:
        """``$Root`` then ``.field`` (letters, digits, ``_``; ``-`` after the first character) and
        ``[index]`` / ``["key"]`` steps, written without spaces between them."""
        src, n = self.source, len(self.source)
        i = start + 1
        while i < n and _is_name_char(src[i]):
            i += 1
        root = src[start + 1 : i]
        if not root:
            raise self.fail("expected a variable name after '$'", start)
        if root not in VARIABLES:
            raise self.fail(f"unknown variable ${root} (expected one of "
                            f"{', '.join('$' + v for v in sorted(VARIABLES))})", start)
        steps: list[tuple[bool, Any]] = []
        while i < n:
            if src[i] == ".":
                j = i + 1
                if j >= n or not _is_name_char(src[j]):
                    raise self.fail("expected a field name after '.'", j)
                while j < n and (_is_name_char(src[j]) or src[j] == "-"):
                    j += 1
                steps.append((False, src[i + 1 : j]))
                i = j
            elif src[i] == "[":
                index = _INDEX.match(src, i + 1)
                if index is not None:
                    steps.append((True, int(index.group(1))))
                    i = index.end()
                    continue
                j = i + 1
                while j < n and src[j] in " \t":
                    j += 1
                if j >= n or src[j] not in "\"'`":
                    raise self.fail("expected a non-negative index or a quoted key after '['", j)
                key, j = self._string(j)
                while j < n and src[j] in " \t":
                    j += 1
                if j >= n or src[j] != "]":
                    raise self.fail("expected ']'", j)
                steps.append((False, key))
                i = j + 1
            else:
                break
        return _Token("path", (root, tuple(steps), src[start:i]), start), i


# --------------------------------------------------------------------------- compiled nodes


_NOT_CONSTANT = object()


class _Node(NamedTuple):
    run: Runner
    constant: Any = _NOT_CONSTANT

    @property
    def is_constant(self) -> bool:
        return self.constant is not _NOT_CONSTANT


def _constant(value: Any) -> _Node:
    return _Node(lambda _variables: value, value)


def _folded(run: Runner, children: tuple[_Node, ...], foldable: bool = True) -> _Node:
    """Fold a node whose children are all constant (parse once, evaluate many); a node whose
    folding fails keeps failing at evaluation time, where the error belongs."""
    if foldable and all(child.is_constant for child in children):
        try:
            return _constant(run(None))
        except EvaluationError:
            pass
    return _Node(run)


def _path_node(root: str, steps: tuple[tuple[bool, Any], ...], text: str) -> _Node:
    """A missing key, an out-of-range index and any step into null give null; stepping into
    another scalar, or indexing a non-array, is an error naming the path."""

    def run(variables: Any) -> Any:
        try:
            current = variables[root]
        except KeyError:
            raise EvaluationError(f"${root} is not available here") from None
        for is_index, key in steps:
            if type(current) is dict and not is_index:
                current = current.get(key)
                continue
            if current is None:
                return None
            if is_index:
                if not isinstance(current, list):
                    raise EvaluationError(f"{text}: cannot index {type_name(current)} with [{key}]")
                current = current[key] if key < len(current) else None
            elif isinstance(current, dict):
                current = current.get(key)
            else:
                raise EvaluationError(f"{text}: cannot read field {key!r} of {type_name(current)}")
        return current

    if not steps:

        def run_root(variables: Any) -> Any:
            try:
                return variables[root]
            except KeyError:
                raise EvaluationError(f"${root} is not available here") from None

        return _Node(run_root)
    return _Node(run)


def _require_boolean(value: Any, operator: str) -> bool:
    if value is True or value is False:
        return value
    raise EvaluationError(f"operand of {operator} must be boolean, got {type_name(value)}")


def _and_node(left: _Node, right: _Node) -> _Node:
    lrun, rrun = left.run, right.run

    def run(variables: Any) -> bool:
        left_value = lrun(variables)
        if left_value is False:
            return False
        if left_value is not True:
            _require_boolean(left_value, "&&")
        return _require_boolean(rrun(variables), "&&")

    return _folded(run, (left, right))


def _or_node(left: _Node, right: _Node) -> _Node:
    lrun, rrun = left.run, right.run

    def run(variables: Any) -> bool:
        left_value = lrun(variables)
        if left_value is True:
            return True
        if left_value is not False:
            _require_boolean(left_value, "||")
        return _require_boolean(rrun(variables), "||")

    return _folded(run, (left, right))


def _not_node(operand: _Node) -> _Node:
    orun = operand.run
    return _folded(lambda variables: not _require_boolean(orun(variables), "!"), (operand,))


_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def _comparison_node(operator: str, left: _Node, right: _Node) -> _Node:
    """Typed comparison: ``==``/``!=`` never match across types (``true != "true"``), numbers
    compare by value; ordering works on two numbers or two strings, anything else is an error."""
    lrun, rrun = left.run, right.run
    if operator == "==":
        run: Runner = lambda variables: json_equal(lrun(variables), rrun(variables))  # noqa: E731
    elif operator == "!=":
        run = lambda variables: not json_equal(lrun(variables), rrun(variables))  # noqa: E731
    else:
        order = _ORDERINGS[operator]

        def run(variables: Any) -> bool:
            a, b = lrun(variables), rrun(variables)
            kind = type(a)
            if kind is type(b) and (kind is int or kind is float or kind is str):
                return order(a, b)
            if (is_number(a) and is_number(b)) or (isinstance(a, str) and isinstance(b, str)):
                return order(a, b)
            raise EvaluationError(f"cannot compare {type_name(a)} {operator} {type_name(b)}")

    return _folded(run, (left, right))


def _call_node(name: str, arguments: tuple[_Node, ...]) -> _Node:
    builtin = BUILTINS[name]
    function = builtin.function
    runs = tuple(argument.run for argument in arguments)
    if len(runs) == 1:
        (only,) = runs
        run: Runner = lambda variables: function(only(variables))  # noqa: E731
    elif len(runs) == 2:
        first, second = runs
        run = lambda variables: function(first(variables), second(variables))  # noqa: E731
    else:
        run = lambda variables: function(*[r(variables) for r in runs])  # noqa: E731
    return _folded(run, arguments, foldable=builtin.deterministic)


def _array_node(elements: tuple[_Node, ...]) -> _Node:
    runs = tuple(element.run for element in elements)
    return _folded(lambda variables: [r(variables) for r in runs], elements)


def _object_node(members: tuple[tuple[str, _Node], ...]) -> _Node:
    runs = tuple((key, node.run) for key, node in members)
    return _folded(
        lambda variables: {key: r(variables) for key, r in runs}, tuple(n for _, n in members)
    )


# --------------------------------------------------------------------------- parser


class _Parser:
    """Recursive descent with bounded depth. Precedence, loosest first:
    ``||`` < ``&&`` < comparisons (not chainable) < ``!`` < primaries."""

    def __init__(self, source: str):
        self.source = source
        self.tokens = _Lexer(source).tokens()
        self.index = 0
        self.depth = 0
        self.calls = 0
        self.roots: set[str] = set()

    def fail(self, message: str, position: int) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(message, self.source, position)

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, punct: str, what: str) -> _Token:
        token = self.peek()
        if token.kind != "punct" or token.value != punct:
            raise self.fail(f"expected {what}, found {self.describe(token)}", token.position)
        return self.take()

    def describe(self, token: _Token) -> str:
        if token.kind == "end":
            return "end of expression"
        return repr(self.source[token.position : token.position + 20].split()[0][:20])

    def parse(self) -> _Node:
        if self.peek().kind == "end":
            raise self.fail("empty expression", self.peek().position)
        node = self.parse_or()
        token = self.peek()
        if token.kind != "end":
            raise self.fail(f"unexpected {self.describe(token)} after the expression", token.position)
        return node

    def nested(self, position: int) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail(f"expression nested more than {MAX_NESTING} levels deep", position)

    def parse_or(self) -> _Node:
        node = self.parse_and()
        while self.peek().kind == "op" and self.peek().value == "||":
            self.take()
            node = _or_node(node, self.parse_and())
        return node

    def parse_and(self) -> _Node:
        node = self.parse_comparison()
        while self.peek().kind == "op" and self.peek().value == "&&":
            self.take()
            node = _and_node(node, self.parse_comparison())
        return node

    def parse_comparison(self) -> _Node:
        left = self.parse_unary()
        token = self.peek()
        if token.kind != "op" or token.value not in _COMPARISONS:
            return left
        self.take()
        node = _comparison_node(token.value, left, self.parse_unary())
        after = self.peek()
        if after.kind == "op" and after.value in _COMPARISONS:
            raise self.fail("comparisons cannot be chained; add parentheses", after.position)
        return node

    def parse_unary(self) -> _Node:
        token = self.peek()
        if token.kind == "op" and token.value == "!":
            self.take()
            self.nested(token.position)
            node = _not_node(self.parse_unary())
            self.depth -= 1
            return node
        return self.parse_primary()

    def parse_primary(self) -> _Node:
        token = self.take()
        kind, value = token.kind, token.value
        if kind == "path":
            root, steps, text = value
            self.roots.add(root)
            return _path_node(root, steps, text)
        if kind in ("string", "number"):
            return _constant(value)
        if kind == "name":
            return self.parse_name(token)
        if kind == "punct" and value in "([{":
            self.nested(token.position)
            if value == "(":
                node = self.parse_or()
                self.expect(")", "')'")
            elif value == "[":
                node = self.parse_array()
            else:
                node = self.parse_object()
            self.depth -= 1
            return node
        if kind == "end":
            raise self.fail("unexpected end of expression", token.position)
        raise self.fail(f"unexpected {self.describe(token)}", token.position)

    def parse_name(self, token: _Token) -> _Node:
        name = token.value
        if name in ("true", "false", "null"):
            return _constant({"true": True, "false": False, "null": None}[name])
        following = self.peek()
        if following.kind != "punct" or following.value != "(":
            raise self.fail(f"unknown name {name!r} (strings need quotes)", token.position)
        builtin = BUILTINS.get(name)
        if builtin is None:
            raise self.fail(f"unknown function {name!r}", token.position)
        self.calls += 1
        if self.calls > MAX_FUNCTION_NESTING:
            raise self.fail(
                f"more than {MAX_FUNCTION_NESTING} levels of nested function calls", token.position
            )
        self.nested(token.position)
        self.take()
        arguments = self.parse_list(")", "',' or ')'")
        self.calls -= 1
        self.depth -= 1
        count = len(arguments)
        if count < builtin.min_args or (builtin.max_args is not None and count > builtin.max_args):
            raise self.fail(f"{name}() takes {_arity(builtin.min_args, builtin.max_args)} "
                            f"argument(s), got {count}", token.position)
        return _call_node(name, arguments)

    def parse_list(self, closing: str, what: str) -> tuple[_Node, ...]:
        items: list[_Node] = []
        token = self.peek()
        if token.kind == "punct" and token.value == closing:
            self.take()
            return ()
        while True:
            items.append(self.parse_or())
            token = self.take()
            if token.kind == "punct" and token.value == closing:
                return tuple(items)
            if token.kind != "punct" or token.value != ",":
                raise self.fail(f"expected {what}, found {self.describe(token)}", token.position)

    def parse_array(self) -> _Node:
        return _array_node(self.parse_list("]", "',' or ']'"))

    def parse_object(self) -> _Node:
        members: dict[str, _Node] = {}
        token = self.peek()
        if token.kind == "punct" and token.value == "}":
            self.take()
            return _object_node(())
        while True:
            key = self.take()
            if key.kind != "string":
                raise self.fail(f"expected a quoted key, found {self.describe(key)}", key.position)
            if key.value in members:
                raise self.fail(f"duplicate key {key.value!r}", key.position)
            self.expect(":", "':'")
            members[key.value] = self.parse_or()
            token = self.take()
            if token.kind == "punct" and token.value == "}":
                return _object_node(tuple(members.items()))
            if token.kind != "punct" or token.value != ",":
                raise self.fail(f"expected ',' or '}}', found {self.describe(token)}", token.position)


def _arity(low: int, high: int | None) -> str:
    if high is None:
        return f"at least {low}"
    return str(low) if low == high else f"{low} to {high}"


# --------------------------------------------------------------------------- public API


@dataclass(frozen=True, slots=True)
class CloudFlowExpression:
    """A compiled expression: immutable, shareable, evaluated many times.

    ``roots`` names the variables it reads (e.g. ``{"Input", "Item"}``); ``is_constant`` is True
    when it reads none and was folded at compile time (``evaluate({})`` then returns the value).
    """

    source: str
    roots: frozenset[str] = field(compare=False)
    is_constant: bool = field(compare=False)
    _run: Runner = field(compare=False, repr=False)

    def evaluate(self, variables: dict[str, Any]) -> Any:
        """Evaluate against ``variables`` (keys ``Input``, ``Output``, ``Context``, ``Global``,
        ``Item``). Failures raise ``FlowError(FnF.RuntimeError, detail)`` naming the expression.
        The result may share structure with the variables or with literals: never mutate it."""
        try:
            return self._run(variables)
        except EvaluationError as exc:
            raise FlowError(ErrorCodes.RUNTIME, f"{exc} (in expression {self.source!r})") from None
        except (TypeError, ValueError, ArithmeticError, RecursionError, LookupError) as exc:
            raise FlowError(
                ErrorCodes.RUNTIME,
                f"cannot evaluate ({type(exc).__name__}) (in expression {self.source!r})",
            ) from None


@lru_cache(maxsize=8192)
def _compile_cached(source: str) -> CloudFlowExpression:
    parser = _Parser(source)
    node = parser.parse()
    return CloudFlowExpression(source, frozenset(parser.roots), node.is_constant, node.run)


def compile_expression(source: str) -> CloudFlowExpression:
    """Parse ``source`` once (memoised by text). Raises ``ExpressionSyntaxError`` with the 0-based
    position of the offending character."""
    if not isinstance(source, str):
        raise ExpressionSyntaxError(
            f"an expression must be a string, got {type_name(source)}", repr(source), 0
        )
    return _compile_cached(source)
