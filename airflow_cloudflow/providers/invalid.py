"""Marker DAGs: how an invalid definition shows up in the Airflow UI without hiding the others.

Airflow records import errors per ``.py`` file, and one loader file serves many definitions, so an
exception would turn every flow in the folder into one import error. Each invalid file instead
becomes a DAG ``cloudflow_invalid__<relative path>`` tagged ``cloudflow-invalid`` and shown in the DAG
list as ``⚠ INVALID <relative path>``:

* its description and docs list every lint line (``path:line:col: CODE message``) and the file;
* its single task ``report_errors`` fails (without retries) with the same lines, so triggering it
  shows them in the task log too.

The marker disappears as soon as the file is fixed (the next parse no longer produces it).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from ..diagnostics import Issue

MARKER_PREFIX = "cloudflow_invalid__"
MARKER_TAG = "cloudflow-invalid"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_MAX_ID = 250


def marker_dag_id(path: str | Path, root: str | Path) -> str:
    """``cloudflow_invalid__`` + the file's path relative to ``root`` (``/`` → ``.``); a short hash
    is appended when other characters had to be replaced or the id would be too long."""
    rel = _relative(path, root)
    slug = rel.replace("/", ".")
    safe = _UNSAFE.sub("_", slug)
    if safe != slug or len(MARKER_PREFIX) + len(safe) > _MAX_ID:
        digest = hashlib.sha1(rel.encode("utf-8")).hexdigest()[:8]
        safe = f"{safe[: _MAX_ID - len(MARKER_PREFIX) - 9]}_{digest}"
    return MARKER_PREFIX + safe


def display_name(path: str | Path, root: str | Path) -> str:
    """How the DAG list shows a marker: ``⚠ INVALID <relative path>`` (searchable, unmistakable)."""
    return f"⚠ INVALID {_relative(path, root)}"


def _relative(path: str | Path, root: str | Path) -> str:
    try:
        return Path(path).absolute().relative_to(Path(root).absolute()).as_posix()
    except ValueError:
        return Path(path).name


class InvalidDefinitionOperator(BaseOperator):
    """Fails with the lint lines of an invalid definition (never retried)."""

    ui_color = "#ffd6d6"

    def __init__(self, *, lines: Sequence[str], **kwargs: Any):
        super().__init__(**kwargs)
        self.lines = tuple(lines)

    def execute(self, context: Any) -> None:
        raise AirflowFailException("invalid CloudFlow definition:\n" + "\n".join(self.lines))


def _doc(path: Path, lines: Sequence[str]) -> str:
    body = "\n".join(lines)
    return (
        f"## Invalid definition: `{path.name}`\n\n"
        f"`{path}` was not turned into a DAG. Fix these issues (or run "
        f"`airflow-cloudflow lint {path}`); this marker disappears on the next parse.\n\n"
        f"```\n{body}\n```\n"
    )


def marker_dag(path: str | Path, root: str | Path, issues: Sequence[Issue]) -> DAG:
    """The marker DAG of one invalid file."""
    path = Path(path)
    lines = [str(i) for i in issues] or [f"{path}: invalid definition"]
    errors = sum(1 for i in issues if i.is_error) or 1
    dag = DAG(
        dag_id=marker_dag_id(path, root),
        dag_display_name=display_name(path, root),
        description=f"INVALID {path.name}: {errors} error(s) - {lines[0]}"[:1000],
        doc_md=_doc(path, lines),
        schedule=None,
        start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
        catchup=False,
        tags=[MARKER_TAG],
        auto_register=False,
    )
    InvalidDefinitionOperator(task_id="report_errors", lines=lines, retries=0, dag=dag)
    return dag


class _Guard:
    discard = False


@contextlib.contextmanager
def forget_autoregistered() -> Iterator[_Guard]:
    """Undo the DAG auto-registration done inside the block when ``guard.discard`` is set (a
    builder that failed halfway through ``with DAG(...)`` must not leave a half-built DAG)."""
    guard = _Guard()
    try:
        from airflow.sdk.definitions._internal.contextmanager import DagContext
    except ImportError:  # pragma: no cover - layout changed: nothing to undo
        yield guard
        return
    before = set(DagContext.autoregistered_dags)
    try:
        yield guard
    finally:
        if guard.discard:
            for entry in set(DagContext.autoregistered_dags) - before:
                DagContext.autoregistered_dags.discard(entry)
