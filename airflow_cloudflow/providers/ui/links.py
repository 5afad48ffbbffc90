"""Operator extra links of a distributed Map's tasks: "Map Run" (the view) and "Results" (the manifest).

Airflow 3 computes a link when the task instance ends (``get_link`` runs in the worker, its value is
kept as an XCom) and the UI shows it as a button; both point at the plugin's own authenticated
routes (``providers/ui/api.py``), so a click never bypasses Airflow's access checks.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from airflow.sdk import BaseOperatorLink

URL_PREFIX = "/cloudflow"
"""Where the plugin's FastAPI app is mounted in the api-server."""


def _base_url() -> str:
    """``[api] base_url`` without its trailing slash; empty: links relative to the UI's host."""
    from airflow.sdk import conf

    return (conf.get("api", "base_url", fallback="") or "").rstrip("/")


def map_run_url(dag_id: str, run_id: str, task_id: str, path: str = "maprun") -> str:
    """The view (or one of its routes) for the Map whose ItemReader task is ``task_id``."""
    query = urlencode({"dag_id": dag_id, "run_id": run_id, "task_id": task_id})
    return f"{_base_url()}{URL_PREFIX}/{path}?{query}"


def _flow_attribute(operator: Any, name: str) -> Any:
    """``step``/``scope_graph`` of a flow operator, also of the shard task before it is expanded."""
    value = getattr(operator, name, None)
    return value if value is not None else operator.partial_kwargs[name]


def reader_task_id(operator: Any) -> str:
    """The Map's ItemReader task (the first input of its processor and ResultWriter steps)."""
    step = _flow_attribute(operator, "step")
    return step.task_id if step.kind == "map_read" else step.inputs[0][0]


class MapRunLink(BaseOperatorLink):
    """"Map Run": the live view of this task's Map Run."""

    name = "Map Run"

    def get_link(self, operator, *, ti_key) -> str:
        return map_run_url(ti_key.dag_id, ti_key.run_id, reader_task_id(operator))


class ResultsLink(BaseOperatorLink):
    """"Results": the ResultWriter's manifest (empty when the Map has no ResultWriter)."""

    name = "Results"

    def get_link(self, operator, *, ti_key) -> str:
        state = _flow_attribute(operator, "scope_graph")[_flow_attribute(operator, "step").state]
        writer = getattr(state, "result_writer", None)
        if writer is None or (getattr(state, "asl", None) is not None and not writer.resource):
            return ""  # the results are the Map's output, not files
        return map_run_url(ti_key.dag_id, ti_key.run_id, reader_task_id(operator), "api/results/manifest")
