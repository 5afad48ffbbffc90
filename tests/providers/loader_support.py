"""Helpers for the loader tests: definition files on disk and a trivial DAG builder."""

from __future__ import annotations

import textwrap
from pathlib import Path

PARSING_ENV = "_AIRFLOW_PARSING_CONTEXT_DAG_ID"
"""What ``airflow.sdk.get_parsing_context().dag_id`` reads (set by workers parsing for one task)."""


def flow_text(name: str, *, start_at: str = "A", next_: str | None = None) -> str:
    """A one-state Pass flow; ``start_at``/``next_`` let a test make it invalid."""
    tail = f"Next: {next_}" if next_ else "End: true"
    return textwrap.dedent(
        f"""\
        Type: StateMachine
        Name: {name}
        SpecVersion: v1
        StartAt: {start_at}
        States:
          - Type: Pass
            Name: A
            {tail}
        """
    )


def write(folder: Path, relative: str, text: str) -> Path:
    """Write ``text`` at ``folder/relative`` (parents created); returns the path."""
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_flow(folder: Path, relative: str, name: str, **kwargs: str) -> Path:
    return write(folder, relative, flow_text(name, **kwargs))


def empty_builder(machine, options):
    """A builder with the real signature that makes a one-task DAG (no planner involved)."""
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.sdk import DAG

    from airflow_cloudflow.planning.plan import dag_id_for

    with DAG(dag_id_for(machine), schedule=options.schedule, tags=list(options.tags), doc_md=machine.source_text) as dag:
        EmptyOperator(task_id="only")
    return dag


class RecordingBuilder:
    """``empty_builder`` that remembers which flows it built."""

    def __init__(self) -> None:
        self.built: list[str] = []
        self.options: dict[str, object] = {}

    def __call__(self, machine, options):
        self.built.append(machine.name)
        self.options[machine.name] = options
        return empty_builder(machine, options)
