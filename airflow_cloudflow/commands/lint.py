"""``airflow-cloudflow lint PATH...``: one line per issue, ``path:line:col: CODE message``.

Folders are searched recursively for ``*.flow.yaml``, ``*.flow.yml``, ``*.asl.json``,
``*.asl.yaml`` and ``*.asl.yml``; a file named explicitly is linted whatever its extension. Exit status: 0 when no
file has an error (warnings allowed), 1 when any has, 2 for usage errors (a path that does not
exist). Never imports Airflow.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from ..dialects import LINT_PATTERNS, lint_path
from .substitutions import substitutions_for

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2


def collect(paths: Iterable[str]) -> tuple[list[Path], list[str]]:
    """The files to lint, in a stable order, and the paths that do not exist."""
    files: list[Path] = []
    missing: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = {p for pattern in LINT_PATTERNS for p in path.rglob(pattern) if p.is_file()}
            files.extend(sorted(found))
        elif path.is_file():
            files.append(path)
        else:
            missing.append(raw)
    return files, missing


def run(paths: Iterable[str], out: TextIO, err: TextIO, substitutions: str | None = None) -> int:
    """Lint ``paths``, writing issues to ``out`` and a summary to ``err``; returns the exit status.
    Each definition's ``${…}`` are filled from its settings files and ``substitutions`` (a file);
    issues in those files are listed under their own path."""
    files, missing = collect(paths)
    for raw in missing:
        err.write(f"airflow-cloudflow lint: no such file or directory: {raw}\n")
    if missing:
        return EXIT_USAGE
    errors = warnings = 0
    for file in files:
        values, issues = substitutions_for(file, substitutions)
        for issue in issues + lint_path(file, values):
            out.write(f"{issue.file or file}:{issue.line}:{issue.column}: {issue.code} {issue.message}\n")
            if issue.is_error:
                errors += 1
            else:
                warnings += 1
    err.write(f"{len(files)} file(s) checked: {errors} error(s), {warnings} warning(s)\n")
    return EXIT_ERRORS if errors else EXIT_OK


def main(args) -> int:
    """Entry point used by ``airflow_cloudflow.cli``."""
    return run(args.paths, sys.stdout, sys.stderr, getattr(args, "substitutions", None))
