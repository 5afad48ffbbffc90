"""ASL Choice rules compiled into objects with ``evaluate(variables) -> bool``.

States language, Choice state: "A Choice Rule … MUST contain a single field named ``Variable``
whose value MUST be a Path, and one comparison operator"; "Boolean expressions: ``And``, ``Or``
(non-empty arrays of Choice Rules), ``Not`` (a single Choice Rule)". Comparators: ``String*``,
``Numeric*``, ``Boolean*``, ``Timestamp*`` (``Equals``, ``LessThan``, ``GreaterThan``,
``LessThanEquals``, ``GreaterThanEquals``), each with a ``…Path`` form whose value is a path to
compare against, plus ``StringMatches`` ("``*`` matches zero or more characters; ``\\*`` and
``\\\\`` escape"), ``IsNull``, ``IsPresent``, ``IsNumeric``, ``IsString``, ``IsBoolean``,
``IsTimestamp``. "A comparison against a value of the wrong type is false" (no error).

JSONata rules are ``{"Condition": "{% … %}", "Next": …}``: the expression must yield a boolean.

``variables`` is the JSONPath/JSONata evaluation dict: ``input``, ``context``, ``variables``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Callable

from airflow_cloudflow.exceptions import FlowError
from airflow_cloudflow.expressions.asl.jsonpath import JsonPath, PathNotFound, compile_path

RUNTIME = "States.Runtime"
KINDS = ("String", "Numeric", "Boolean", "Timestamp")
RELATIONS = ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
TYPE_TESTS = ("IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp")
COMPARATORS = tuple(k + r for k in KINDS for r in RELATIONS) + ("StringMatches",)
ALL_OPERATORS = COMPARATORS + tuple(c + "Path" for c in COMPARATORS if c != "StringMatches") + TYPE_TESTS

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def parse_timestamp(value: Any) -> datetime | None:
    """An RFC 3339 timestamp ("``2016-03-14T01:59:00Z``"), else None."""
    if not isinstance(value, str) or not _TIMESTAMP.match(value):
        return None
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        head, dot, rest = text.partition(".")
        if dot:  # Python < 3.11 style fractions longer than 6 digits
            digits = re.match(r"\d+", rest).group(0)  # type: ignore[union-attr]
            text = f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits):]}"
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _relation(relation: str) -> Callable[[Any, Any], bool]:
    return {
        "Equals": lambda a, b: a == b,
        "LessThan": lambda a, b: a < b,
        "GreaterThan": lambda a, b: a > b,
        "LessThanEquals": lambda a, b: a <= b,
        "GreaterThanEquals": lambda a, b: a >= b,
    }[relation]


@lru_cache(maxsize=1024)
def _glob(pattern: str) -> tuple[str, ...]:
    """A ``StringMatches`` pattern compiled once: the literal texts between its unescaped stars
    (``\\*`` is a literal star, ``\\\\`` a backslash; a backslash before any other character, or
    at the end, stands for that character / itself)."""
    segments: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            current.append(pattern[i + 1])
            i += 2
            continue
        if ch == "*":
            segments.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    segments.append("".join(current))
    return tuple(segments)


def string_matches(value: str, pattern: str) -> bool:
    """``StringMatches``: ``*`` is any run of characters; ``\\*`` a literal star, ``\\\\`` a backslash.

    A greedy glob match, linear in the value's length: the first and last literal texts must be
    the value's prefix and suffix, and each text between stars is found leftmost after the
    previous one (taking the leftmost occurrence never loses a match). No regex backtracking:
    ``*a*a*a*a*a*b`` against a long run of ``a`` answers at once."""
    parts = _glob(pattern)
    if len(parts) == 1:
        return value == parts[0]
    first, last = parts[0], parts[-1]
    end = len(value) - len(last)
    if end < len(first) or not value.startswith(first) or not value.endswith(last):
        return False
    pos = len(first)
    for segment in parts[1:-1]:
        found = value.find(segment, pos, end)
        if found < 0:
            return False
        pos = found + len(segment)
    return True


def _coerce(kind: str, value: Any) -> Any:
    """The comparable form of ``value`` for ``kind``, or None when it has the wrong type."""
    if kind == "String":
        return value if isinstance(value, str) else None
    if kind == "Numeric":
        return value if _is_number(value) else None
    if kind == "Boolean":
        return value if isinstance(value, bool) else None
    return parse_timestamp(value)


class ChoiceRule:
    """Base of the compiled rules; ``source`` is the rule as compact JSON (for messages)."""

    roots = frozenset()

    def evaluate(self, variables: dict[str, Any]) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError


def _lookup(path: JsonPath, variables: dict[str, Any]) -> tuple[bool, Any]:
    try:
        return True, path.evaluate(variables)
    except PathNotFound:
        return False, None


@dataclass(frozen=True)
class Comparison(ChoiceRule):
    """``Variable`` + one comparator (literal, or ``…Path`` when ``other`` is a path)."""

    source: str
    variable: JsonPath
    operator: str
    value: Any = None
    other: JsonPath | None = None

    def evaluate(self, variables: dict[str, Any]) -> bool:
        op = self.operator
        found, actual = _lookup(self.variable, variables)
        if op == "IsPresent":
            return found == bool(self.value)
        if not found:
            raise FlowError(RUNTIME, f"Invalid path '{self.variable.source}': The choice state's condition "
                                     "path references an invalid value.")
        if op.startswith("Is"):
            return _type_test(op, actual) == bool(self.value)
        expected = self.value
        if self.other is not None:
            ok, expected = _lookup(self.other, variables)
            if not ok:
                raise FlowError(RUNTIME, f"Invalid path '{self.other.source}': The choice state's condition "
                                         "path references an invalid value.")
        if op == "StringMatches":
            return isinstance(actual, str) and isinstance(expected, str) and string_matches(actual, expected)
        kind = next(k for k in KINDS if op.startswith(k))
        a, b = _coerce(kind, actual), _coerce(kind, expected)
        if a is None or b is None:
            return False
        relation = op[len(kind):].removesuffix("Path")
        if kind == "Boolean" and relation != "Equals":
            return False
        return _relation(relation)(a, b)


def _type_test(op: str, value: Any) -> bool:
    if op == "IsNull":
        return value is None
    if op == "IsNumeric":
        return _is_number(value)
    if op == "IsString":
        return isinstance(value, str)
    if op == "IsBoolean":
        return isinstance(value, bool)
    return parse_timestamp(value) is not None  # IsTimestamp


@dataclass(frozen=True)
class And(ChoiceRule):
    source: str
    rules: tuple[ChoiceRule, ...]

    def evaluate(self, variables: dict[str, Any]) -> bool:
        return all(rule.evaluate(variables) for rule in self.rules)


@dataclass(frozen=True)
class Or(ChoiceRule):
    source: str
    rules: tuple[ChoiceRule, ...]

    def evaluate(self, variables: dict[str, Any]) -> bool:
        return any(rule.evaluate(variables) for rule in self.rules)


@dataclass(frozen=True)
class Not(ChoiceRule):
    source: str
    rule: ChoiceRule

    def evaluate(self, variables: dict[str, Any]) -> bool:
        return not self.rule.evaluate(variables)


@dataclass(frozen=True)
class JsonataCondition(ChoiceRule):
    """``Condition``: "evaluates to a boolean"; anything else is ``States.QueryEvaluationError``."""

    source: str
    expression: Any  # JsonataExpression

    def evaluate(self, variables: dict[str, Any]) -> bool:
        value = self.expression.evaluate(variables)
        if not isinstance(value, bool):
            raise FlowError(
                "States.QueryEvaluationError",
                f"The JSONata expression '{self.expression.source}' specified for the field 'Condition' "
                f"returned an unexpected result type. Expected 'boolean', but was "
                f"'{type(value).__name__}' for value: {json.dumps(value)}",
            )
        return value


class ChoiceSyntaxError(ValueError):
    """A rule that does not follow the grammar; ``pointer`` is relative to the rule."""

    def __init__(self, message: str, pointer: str = ""):
        super().__init__(message)
        self.pointer = pointer


NON_RULE_KEYS = ("Next", "Comment", "Assign", "Output")


def compile_rule(raw: Any, top: bool = True, pointer: str = "") -> ChoiceRule:
    """Compile one Choice Rule (``top``: a rule of ``Choices``, which carries ``Next``)."""
    if not isinstance(raw, dict):
        raise ChoiceSyntaxError("a Choice Rule must be an object", pointer)
    source = json.dumps(raw, separators=(",", ":"), sort_keys=False)
    keys = [k for k in raw if k not in NON_RULE_KEYS] if top else [k for k in raw if k != "Comment"]
    if not top and "Next" in raw:
        raise ChoiceSyntaxError("a nested Choice Rule must not have 'Next'", pointer + "/Next")
    for boolean in ("And", "Or"):
        if boolean in raw:
            if set(keys) != {boolean}:
                raise ChoiceSyntaxError(f"'{boolean}' must be the only operator of its rule", pointer)
            items = raw[boolean]
            if not isinstance(items, list) or not items:
                raise ChoiceSyntaxError(f"'{boolean}' must be a non-empty array of Choice Rules", f"{pointer}/{boolean}")
            rules = tuple(compile_rule(r, False, f"{pointer}/{boolean}/{i}") for i, r in enumerate(items))
            return (And if boolean == "And" else Or)(source, rules)
    if "Not" in raw:
        if set(keys) != {"Not"}:
            raise ChoiceSyntaxError("'Not' must be the only operator of its rule", pointer)
        return Not(source, compile_rule(raw["Not"], False, f"{pointer}/Not"))
    if "Variable" not in raw:
        raise ChoiceSyntaxError("a Choice Rule needs 'Variable' (or And / Or / Not)", pointer)
    variable = raw["Variable"]
    if not isinstance(variable, str) or not variable.lstrip(" ").startswith("$"):
        raise ChoiceSyntaxError("'Variable' must be a path ('$…', '$$…' or '$var…')", pointer + "/Variable")
    ops = [k for k in keys if k != "Variable"]
    unknown = [k for k in ops if k not in ALL_OPERATORS]
    if unknown:
        raise ChoiceSyntaxError(f"unknown Choice Rule field {unknown[0]!r}", f"{pointer}/{unknown[0]}")
    if len(ops) != 1:
        raise ChoiceSyntaxError("a Choice Rule needs exactly one comparison operator", pointer)
    op = ops[0]
    value = raw[op]
    path = compile_path(variable)
    if op.endswith("Path"):
        if not isinstance(value, str) or not value.lstrip(" ").startswith("$"):
            raise ChoiceSyntaxError(f"'{op}' must be a path", f"{pointer}/{op}")
        return Comparison(source, path, op, None, compile_path(value))
    _check_literal(op, value, f"{pointer}/{op}")
    return Comparison(source, path, op, value)


def _check_literal(op: str, value: Any, pointer: str) -> None:
    if op in TYPE_TESTS or op.startswith("Boolean"):
        ok = isinstance(value, bool)
    elif op.startswith("Numeric"):
        ok = _is_number(value)
    elif op.startswith("Timestamp"):
        ok = parse_timestamp(value) is not None
    else:
        ok = isinstance(value, str)
    if not ok:
        raise ChoiceSyntaxError(f"'{op}' has a value of the wrong type: {json.dumps(value)}", pointer)


__all__ = ["ALL_OPERATORS", "ChoiceRule", "ChoiceSyntaxError", "JsonataCondition", "compile_rule",
           "parse_timestamp", "string_matches"]
