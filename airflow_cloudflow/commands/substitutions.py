"""The ``${name}`` values ``lint``, ``run`` and ``render`` fill into a definition before parsing it.

They are the loader's: the ``definition_substitutions:`` of ``cloudflow.defaults.yaml`` in the
definition's folder and of its sidecar (``<name>.airflow.yaml``), merged name by name, then
``--substitutions FILE`` on top (a YAML or JSON mapping ``name: value``). Never imports Airflow.
"""

from __future__ import annotations

from pathlib import Path

from ..diagnostics import ERROR, Issue
from ..dialects.substitutions import check_values
from ..exceptions import DefinitionError

OPTION_HELP = "YAML/JSON mapping of ${name} placeholders to values, over the sidecar's definition_substitutions"


def read_substitutions_file(path: str | Path) -> tuple[dict[str, str], list[Issue]]:
    """The mapping in ``path`` and the issues that make it unusable (``CF-E105``/``CF-E110``)."""
    from ..providers.sidecar import read_yaml_file

    doc, issues = read_yaml_file(path, "substitutions file")
    if doc is None:
        return {}, issues
    try:
        return check_values({} if doc.data is None else doc.data), []
    except ValueError as exc:
        line, column = doc.mark("")
        return {}, [Issue(str(path), line, column, "CF-E110", f"substitutions: {exc}", ERROR, "")]


def substitutions_for(definition: str | Path, extra_file: str | None = None) -> tuple[dict[str, str], list[Issue]]:
    """The substitutions of ``definition`` (settings files, then ``extra_file``) and every issue
    found in those files."""
    from ..providers.sidecar import load_options

    issues: list[Issue] = []
    try:
        values = dict(load_options(definition).definition_substitutions)
    except DefinitionError as exc:
        values = {}
        issues.extend(exc.issues)
    if extra_file:
        extra, found = read_substitutions_file(extra_file)
        values.update(extra)
        issues.extend(found)
    return values, issues


def add_option(parser) -> None:
    """``--substitutions FILE`` on a sub-command parser."""
    parser.add_argument("--substitutions", metavar="FILE", help=OPTION_HELP)
