"""Typed field access over a converted YAML document, collecting ``Issue``s instead of raising.

Every getter reports a wrong type at the key's line (``CF-E110``) and a missing required field at
the enclosing node (``CF-E111``), then returns ``None`` so building goes on and *all* problems are
found in one pass. ``template`` implements the ``.$`` rule: "a key ending in ``.$`` means the value
is an expression. The suffix is stripped from the resulting key"; "without ``.$``, the value is a
literal".
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from typing import Any

from ..diagnostics import ERROR, WARNING, Issue
from ..exceptions import ExpressionSyntaxError
from ..expressions.cloudflow import compile_expression
from ..model import ArrayTemplate, Expression, Literal, Location, ObjectTemplate, Template
from .yaml_nodes import YamlDocument, escape_pointer_token

EXPRESSION_SUFFIX = ".$"


def child(pointer: str, key: str | int) -> str:
    """The JSON pointer of ``key`` under ``pointer``."""
    return f"{pointer}/{escape_pointer_token(str(key))}"


def type_name(value: Any) -> str:
    """A JSON-ish name for ``value``'s type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


class InvalidExpression:
    """Stands in for an expression that failed to compile (already reported), so the model keeps
    its shape and later checks do not cascade. Never evaluated: such a model is never returned by
    ``load_definition``."""

    roots: frozenset[str] = frozenset()

    def __init__(self, source: str):
        self.source = source

    def evaluate(self, variables: dict[str, Any]) -> Any:
        raise ExpressionSyntaxError("expression failed to compile", self.source, 0)


class FieldReader:
    """Reads fields from ``doc`` and records issues; one instance per definition."""

    def __init__(self, doc: YamlDocument, file: str | None):
        self.doc = doc
        self.file = file
        self.issues: list[Issue] = []

    # ---------------------------------------------------------------- reporting

    def location(self, pointer: str) -> Location:
        line, column = self.doc.mark(pointer)
        return Location(self.file, line, column, pointer)

    def report(self, code: str, message: str, pointer: str, severity: str = ERROR,
               at: tuple[int, int] | None = None) -> None:
        line, column = at or self.doc.mark(pointer)
        self.issues.append(Issue(self.file, line, column, code, message, severity, pointer))

    def check_keys(self, raw: dict[str, Any], allowed: Collection[str], pointer: str, what: str,
                   hints: dict[str, str] | None = None) -> None:
        """Unknown keys are likely typos: an error with a "did you mean" hint."""
        for key in raw:
            if key in allowed:
                continue
            hint = (hints or {}).get(key)
            if hint is None:
                lowered = {a.lower(): a for a in allowed}
                close = [lowered[key.lower()]] if key.lower() in lowered else difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.7)
                hint = f"; did you mean {close[0]!r}?" if close else ""
            self.report("CF-E112", f"unknown field {key!r} in {what}{hint}", child(pointer, key))

    # ---------------------------------------------------------------- typed getters

    def _missing(self, key: str, pointer: str, what: str) -> None:
        self.report("CF-E111", f"{what} is missing required field {key!r}", pointer)

    def _wrong(self, key: str, pointer: str, expected: str, value: Any) -> None:
        self.report("CF-E110", f"{key!r} must be {expected}, got {type_name(value)}", child(pointer, key))

    def get(self, raw: dict[str, Any], key: str, pointer: str, expected: str, check, *,
            required: bool = False, what: str = "this node") -> Any:
        if key not in raw:
            if required:
                self._missing(key, pointer, what)
            return None
        value = raw[key]
        if not check(value):
            self._wrong(key, pointer, expected, value)
            return None
        return value

    def string(self, raw: dict[str, Any], key: str, pointer: str, *, required: bool = False,
               what: str = "this node") -> str | None:
        value = self.get(raw, key, pointer, "a non-empty string", lambda v: isinstance(v, str) and v != "",
                         required=required, what=what)
        return value

    def integer(self, raw: dict[str, Any], key: str, pointer: str, *, required: bool = False,
                what: str = "this node", numeric_string: bool = False) -> int | None:
        def ok(v: Any) -> bool:
            if isinstance(v, bool):
                return False
            if isinstance(v, int):
                return True
            if isinstance(v, float):
                return v.is_integer()
            return numeric_string and isinstance(v, str) and v.strip().lstrip("-").isdigit()

        value = self.get(raw, key, pointer, "an integer", ok, required=required, what=what)
        return None if value is None else int(value)

    def number(self, raw: dict[str, Any], key: str, pointer: str, *, required: bool = False,
               what: str = "this node") -> float | None:
        value = self.get(raw, key, pointer, "a number",
                         lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
                         required=required, what=what)
        return value

    def boolean(self, raw: dict[str, Any], key: str, pointer: str) -> bool | None:
        return self.get(raw, key, pointer, "true or false", lambda v: isinstance(v, bool))

    def mapping(self, raw: dict[str, Any], key: str, pointer: str, *, required: bool = False,
                what: str = "this node") -> dict[str, Any] | None:
        return self.get(raw, key, pointer, "a mapping", lambda v: isinstance(v, dict), required=required, what=what)

    def sequence(self, raw: dict[str, Any], key: str, pointer: str, *, required: bool = False,
                 what: str = "this node") -> list[Any] | None:
        return self.get(raw, key, pointer, "a list", lambda v: isinstance(v, list), required=required, what=what)

    def string_list(self, raw: dict[str, Any], key: str, pointer: str, *, required: bool = False,
                    what: str = "this node") -> tuple[str, ...] | None:
        value = self.get(raw, key, pointer, "a list of strings",
                         lambda v: isinstance(v, list) and all(isinstance(s, str) for s in v),
                         required=required, what=what)
        return None if value is None else tuple(value)

    # ---------------------------------------------------------------- expressions and templates

    def expression(self, source: str, pointer: str) -> Expression:
        """Compile ``source`` once; a syntax error is ``CF-E401`` at the column inside the value
        (the result then holds an ``InvalidExpression``)."""
        compiled: Any
        try:
            compiled = compile_expression(source)
        except ExpressionSyntaxError as exc:
            at = self.doc.value_column(pointer, exc.position)
            self.report("CF-E401", f"invalid expression {source!r}: {exc.message} (at position {exc.position})",
                        pointer, at=at)
            compiled = InvalidExpression(source)
        except Exception as exc:  # noqa: BLE001 - lint never crashes on a bad expression
            self.report("CF-E401", f"invalid expression {source!r}: {exc}", pointer)
            compiled = InvalidExpression(source)
        return Expression(source, compiled, self.location(pointer))

    def dynamic_scalar(self, raw: dict[str, Any], key: str, pointer: str, literal) -> Template | None:
        """A scalar field that may also be written ``<key>.$`` (``Seconds.$``, ``Timeout.$``)."""
        dyn = key + EXPRESSION_SUFFIX
        if key in raw and dyn in raw:
            self.report("CF-E120", f"give either {key!r} or {dyn!r}, not both", child(pointer, dyn))
            return None
        if dyn in raw:
            source = raw[dyn]
            if not isinstance(source, str):
                self.report("CF-E402", f"{dyn!r} must be an expression string, got {type_name(source)}",
                            child(pointer, dyn))
                return None
            return self.expression(source, child(pointer, dyn))
        if key in raw:
            value = literal(raw, key, pointer)
            return None if value is None else Literal(value)
        return None

    def constructor(self, raw: dict[str, Any], key: str, pointer: str, *, required: bool = False,
                    what: str = "this node") -> Template | None:
        """A ``map[string]any`` field whose values may be computed (constructors, Parameters, ...)."""
        value = self.mapping(raw, key, pointer, required=required, what=what)
        return None if value is None else self.template(value, child(pointer, key))

    def template(self, value: Any, pointer: str) -> Template:
        """Build a template; a subtree without expressions folds into one ``Literal``."""
        if isinstance(value, dict):
            fields: list[tuple[str, Template]] = []
            seen: set[str] = set()
            for key, item in value.items():
                item_pointer = child(pointer, key)
                if key.endswith(EXPRESSION_SUFFIX):
                    name = key[: -len(EXPRESSION_SUFFIX)]
                    if not isinstance(item, str):
                        self.report("CF-E402", f"{key!r} must be an expression string, got {type_name(item)}",
                                    item_pointer)
                        built: Template = Literal(None)
                    else:
                        built = self.expression(item, item_pointer)
                else:
                    name = key
                    built = self.template(item, item_pointer)
                if name in seen:
                    self.report("CF-E120", f"key {name!r} is given both as a literal and as {name + '.$'!r}",
                                item_pointer)
                    continue
                seen.add(name)
                fields.append((name, built))
            if all(isinstance(t, Literal) for _, t in fields):
                return Literal({k: t.value for k, t in fields})  # type: ignore[union-attr]
            return ObjectTemplate(tuple(fields))
        if isinstance(value, list):
            items = tuple(self.template(item, child(pointer, i)) for i, item in enumerate(value))
            if all(isinstance(t, Literal) for t in items):
                return Literal([t.value for t in items])  # type: ignore[union-attr]
            return ArrayTemplate(items)
        return Literal(value)


def warn(reader: FieldReader, code: str, message: str, pointer: str) -> None:
    """Record a warning."""
    reader.report(code, message, pointer, WARNING)
