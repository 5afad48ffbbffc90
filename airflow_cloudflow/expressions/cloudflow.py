"""CloudFlow's expression language: tokenizer, parser and closure compiler (no ``eval``).

"It is CloudFlow's own expression language: variable paths plus function calls" (§2.4), with the
Choice operators ``>, >=, <, <=, ==, !=, ||, &&`` (§1.3). One grammar serves ``.$`` values,
``ItemsPath``, ``Seconds.$`` and Choice ``Condition``s. ``compile_expression`` parses a source text
once into a tree of closures; ``CloudFlowExpression.evaluate`` runs them (a path lookup is a few
dict gets). See ``docs/expressions.md`` for the grammar and every decision taken where the spec is
silent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ..exceptions import ErrorCodes, ExpressionSyntaxError, FlowError
from . import cloudflow_nodes as nodes
from .builtins import BUILTINS, EvaluationError, type_name
from .cloudflow_lexer import COMPARISONS, VARIABLES, Token, tokenize
from .cloudflow_nodes import Node, Runner

__all__ = ["VARIABLES", "MAX_FUNCTION_NESTING", "MAX_NESTING", "CloudFlowExpression", "compile_expression"]

MAX_FUNCTION_NESTING = 10
""""At most 10 levels of nested function calls per expression" (§2.3)."""

MAX_NESTING = 64
"""Bound on any nesting (parentheses, arrays, maps, ``!``, calls) so parsing never recurses deeply."""


# --------------------------------------------------------------------------- parser


class _Parser:
    """Recursive descent with bounded depth. Precedence, loosest first:
    ``||`` < ``&&`` < comparisons (not chainable) < ``!`` < primaries."""

    def __init__(self, source: str):
        self.source = source
        self.tokens = tokenize(source)
        self.index = 0
        self.depth = 0
        self.calls = 0
        self.roots: set[str] = set()

    def fail(self, message: str, position: int) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(message, self.source, position)

    def peek(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, punct: str, what: str) -> Token:
        token = self.peek()
        if token.kind != "punct" or token.value != punct:
            raise self.fail(f"expected {what}, found {self.describe(token)}", token.position)
        return self.take()

    def describe(self, token: Token) -> str:
        if token.kind == "end":
            return "end of expression"
        return repr(self.source[token.position : token.position + 20].split()[0][:20])

    def parse(self) -> Node:
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

    def parse_or(self) -> Node:
        node = self.parse_and()
        while self.peek().kind == "op" and self.peek().value == "||":
            self.take()
            node = nodes.or_node(node, self.parse_and())
        return node

    def parse_and(self) -> Node:
        node = self.parse_comparison()
        while self.peek().kind == "op" and self.peek().value == "&&":
            self.take()
            node = nodes.and_node(node, self.parse_comparison())
        return node

    def parse_comparison(self) -> Node:
        left = self.parse_unary()
        token = self.peek()
        if token.kind != "op" or token.value not in COMPARISONS:
            return left
        self.take()
        node = nodes.comparison_node(token.value, left, self.parse_unary())
        after = self.peek()
        if after.kind == "op" and after.value in COMPARISONS:
            raise self.fail("comparisons cannot be chained; add parentheses", after.position)
        return node

    def parse_unary(self) -> Node:
        token = self.peek()
        if token.kind == "op" and token.value == "!":
            self.take()
            self.nested(token.position)
            node = nodes.not_node(self.parse_unary())
            self.depth -= 1
            return node
        return self.parse_primary()

    def parse_primary(self) -> Node:
        token = self.take()
        kind, value = token.kind, token.value
        if kind == "path":
            root, steps, text = value
            self.roots.add(root)
            return nodes.path_node(root, steps, text)
        if kind in ("string", "number"):
            return nodes.constant(value)
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

    def parse_name(self, token: Token) -> Node:
        name = token.value
        if name in ("true", "false", "null"):
            return nodes.constant({"true": True, "false": False, "null": None}[name])
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
        return nodes.call_node(name, arguments)

    def parse_list(self, closing: str, what: str) -> tuple[Node, ...]:
        items: list[Node] = []
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

    def parse_array(self) -> Node:
        return nodes.array_node(self.parse_list("]", "',' or ']'"))

    def parse_object(self) -> Node:
        members: dict[str, Node] = {}
        token = self.peek()
        if token.kind == "punct" and token.value == "}":
            self.take()
            return nodes.object_node(())
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
                return nodes.object_node(tuple(members.items()))
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
