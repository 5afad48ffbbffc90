"""Validation issues: data, not exceptions ("validate() returns all issues at once")."""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Issue:
    """One finding: a stable ``code`` (e.g. ``CF-E104``), where it is, and what is wrong.

    ``line``/``column`` are 1-based; ``pointer`` is the RFC 6901 JSON pointer of the node.
    """

    file: str | None
    line: int
    column: int
    code: str
    message: str
    severity: str = ERROR
    pointer: str = ""

    def __str__(self) -> str:
        return f"{self.file or '<string>'}:{self.line}:{self.column}: {self.code} {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR


def escape_pointer_token(token: str) -> str:
    """RFC 6901: ``~`` becomes ``~0`` and ``/`` becomes ``~1``."""
    return token.replace("~", "~0").replace("/", "~1")
