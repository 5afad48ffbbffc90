"""Definition front-ends: file → ``StateMachine`` plus every ``Issue`` found on the way.

``DIALECTS`` maps a dialect name to its parser; ``dialect_for`` picks one from the file name
(``*.asl.json`` / ``*.asl.yaml`` are the ASL dialect).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from ..diagnostics import ERROR, Issue
from ..exceptions import DefinitionError
from ..model import StateMachine
from .asl.builder import parse_asl
from .cloudflow import parse_cloudflow
from .substitutions import substitute
from .yaml_nodes import YamlDocument

Parser = Callable[[str, "str | None"], "tuple[StateMachine | None, list[Issue], YamlDocument | None]"]

DIALECTS: dict[str, Parser] = {"cloudflow": parse_cloudflow, "asl": parse_asl}
"""Dialect name → ``parse(text, file) -> (machine | None, load issues, document with marks)``."""

SUFFIXES: tuple[tuple[str, str], ...] = (
    (".asl.json", "asl"),
    (".asl.yaml", "asl"),
    (".asl.yml", "asl"),
    (".flow.yaml", "cloudflow"),
    (".flow.yml", "cloudflow"),
    (".yaml", "cloudflow"),
    (".yml", "cloudflow"),
)
"""File-name endings → dialect, most specific first. Anything else is read as CloudFlow."""

LINT_PATTERNS = ("*.flow.yaml", "*.flow.yml", "*.asl.json", "*.asl.yaml", "*.asl.yml")
"""The definition files looked for inside a folder: by ``lint``, the DAGs-folder loader and the
sub-flow lookup (one list, so the three always agree)."""


def dialect_for(file: str | Path | None) -> str:
    """The dialect name for ``file`` (CloudFlow when unknown)."""
    name = str(file or "").lower()
    for suffix, dialect in SUFFIXES:
        if name.endswith(suffix):
            return dialect
    return "cloudflow"


def _parser(file: str | None) -> Parser | None:
    return DIALECTS.get(dialect_for(file))


Substitutions = Mapping[str, str]
"""``${name}`` → value, applied to the text before it is parsed (``dialects/substitutions.py``)."""


def lint_text(
    text: str, file: str | None = None, substitutions: Substitutions | None = None
) -> tuple[StateMachine | None, list[Issue]]:
    """Load and validate ``text``: the model (``None`` when it could not be built) and *all* issues,
    sorted by line. ``${name}`` placeholders are filled from ``substitutions`` first; one left
    without a value is a ``CF-E130`` issue and stops the parse."""
    from ..validation.graph import validate

    parser = _parser(file)
    if parser is None:
        issue = Issue(file, 1, 1, "CF-E117", f"no dialect registered for {dialect_for(file)!r} files yet", ERROR, "")
        return None, [issue]
    text, unresolved = substitute(text, file, substitutions)
    if unresolved:
        return None, unresolved
    machine, issues, doc = parser(text, file)
    if machine is not None:
        issues = issues + [_refine(i, doc) for i in validate(machine)]
    issues = _dedupe(issues)
    issues.sort(key=lambda i: (i.line, i.column, i.code, i.message))
    return machine, issues


def _refine(issue: Issue, doc: YamlDocument | None) -> Issue:
    """Move a validation issue to the exact line of its pointer when the document knows it."""
    if doc is None or not issue.pointer or issue.code.startswith("CF-E4"):
        return issue
    line, column = doc.mark(issue.pointer)
    if (line, column) == (issue.line, issue.column):
        return issue
    from dataclasses import replace

    return replace(issue, line=line, column=column)


def _dedupe(issues: list[Issue]) -> list[Issue]:
    seen: set[tuple] = set()
    out = []
    for issue in issues:
        key = (issue.line, issue.column, issue.code, issue.message)
        if key not in seen:
            seen.add(key)
            out.append(issue)
    return out


def load_definition_text(
    text: str, file: str | None = None, substitutions: Substitutions | None = None
) -> StateMachine:
    """Build the model from ``text``; raises ``DefinitionError(issues, file)`` on any error."""
    machine, issues = lint_text(text, file, substitutions)
    if machine is None or any(i.severity == ERROR for i in issues):
        raise DefinitionError(issues, file)
    return machine


def read_text(path: str | Path) -> str:
    """Read a definition file as UTF-8 (a BOM is tolerated)."""
    return Path(path).read_text(encoding="utf-8-sig")


def _not_utf8(path: str | Path, exc: UnicodeDecodeError) -> Issue:
    return Issue(str(path), 1, 1, "CF-E105", f"cannot read file: not UTF-8 text ({exc.reason} at byte {exc.start})",
                 ERROR, "")


def load_definition(path: str | Path, substitutions: Substitutions | None = None) -> StateMachine:
    """Build the model from the file at ``path``; raises ``DefinitionError`` on any error (a file
    that is not UTF-8 is one ``CF-E105`` issue; ``OSError`` when it cannot be read at all)."""
    try:
        text = read_text(path)
    except UnicodeDecodeError as exc:
        raise DefinitionError([_not_utf8(path, exc)], str(path)) from None
    return load_definition_text(text, str(path), substitutions)


def lint_path(path: str | Path, substitutions: Substitutions | None = None) -> list[Issue]:
    """Every issue in one file (an unreadable file is one ``CF-E105`` issue)."""
    try:
        text = read_text(path)
    except UnicodeDecodeError as exc:
        return [_not_utf8(path, exc)]
    except OSError as exc:
        return [Issue(str(path), 1, 1, "CF-E105", f"cannot read file: {exc}", ERROR, "")]
    return lint_text(text, str(path), substitutions)[1]


__all__ = [
    "DIALECTS", "LINT_PATTERNS", "dialect_for", "lint_path", "lint_text", "load_definition",
    "load_definition_text",
]
