"""The Map Run view's FastAPI app, mounted by the api-server under ``/cloudflow`` (``plugin.py``).

Every route depends on Airflow's own ``requires_access_dag`` (the caller's JWT, from the
``Authorization`` header or the UI's session cookie, checked by the configured auth manager):
reading a Map Run needs read access to the DAG's runs, its children and result files read access
to its task instances. Which objects are read never comes from the request: the Map Run's staging
area is the one its ItemReader task recorded for that DAG run (``MAP_VIEW_KEY``), checked to lie
under ``<dag_id>/<run>/<task>/``; result files are the ones its manifest lists.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any
from urllib.parse import urlparse

from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.core_api.security import requires_access_dag

from ...exceptions import NoSuchObject, StoreError
from ...planning.map_run_view import STATUSES, children_page, describe, describe_map_run
from ...planning.progress import SUMMARY_FILE, read_json
from ..runtime import execution_name
from ..staging import location_options, staging_of

READ_RUNS = Depends(requires_access_dag("GET", DagAccessEntity.RUN))
READ_TASKS = Depends(requires_access_dag("GET", DagAccessEntity.TASK_INSTANCE))
_SUFFIXES = ("__process", "__results")
MAX_FILE_BYTES = 16 << 20

app = FastAPI(title="CloudFlow Map Run", docs_url=None, redoc_url=None, openapi_url=None)


def map_views(dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
    """The Map Runs of one DAG run: ItemReader task id → its recorded staging location."""
    from sqlalchemy import select

    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    from ..xcom import MAP_VIEW_KEY

    with create_session() as session:
        rows = session.scalars(select(XComModel).where(
            XComModel.dag_id == dag_id, XComModel.run_id == run_id, XComModel.key == MAP_VIEW_KEY)).all()
        found = {row.task_id: XComModel.deserialize_value(row) for row in rows}
    return {task: value for task, value in found.items() if isinstance(value, dict) and _inside(value, dag_id, run_id, task)}


def _inside(location: dict[str, Any], dag_id: str, run_id: str, task_id: str) -> bool:
    """The recorded prefix lies under this run's own ``<dag>/<run>/<task>/`` (and climbs nowhere)."""
    prefix = "/" + str(location.get("prefix", "")).strip("/") + "/"
    return f"/{dag_id}/{execution_name(run_id)}/{task_id}/" in prefix and "/../" not in prefix


def _reader_for(views: dict[str, Any], task_id: str | None) -> str | None:
    if task_id is None:
        return next(iter(sorted(views)), None)
    for candidate in (task_id, *(task_id.removesuffix(s) for s in _SUFFIXES if task_id.endswith(s))):
        if candidate in views:
            return candidate
    return None


def _located(dag_id: str, run_id: str, task_id: str | None) -> tuple[str, dict[str, Any]]:
    views = map_views(dag_id, run_id)
    reader = _reader_for(views, task_id)
    if reader is None:
        raise HTTPException(404, "no distributed Map Run recorded for this DAG run" + (
            f" and task {task_id!r}" if task_id else ""))
    return reader, views[reader]


@app.get("/maprun", response_class=HTMLResponse, dependencies=[READ_RUNS])
def page(dag_id: str, run_id: str, task_id: str | None = None) -> HTMLResponse:
    """The view itself (static HTML; its script calls the routes below with the same parameters)."""
    html = resources.files(__package__).joinpath("static/maprun.html").read_text(encoding="utf-8")
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@app.get("/api/maps", dependencies=[READ_RUNS])
def maps(dag_id: str, run_id: str) -> dict[str, Any]:
    """The distributed Maps of a DAG run (ItemReader task id, state name, Map Run name)."""
    return {"maps": [{"task_id": task, "state": v.get("state"), "map_run_name": v.get("map_run_name")}
                     for task, v in sorted(map_views(dag_id, run_id).items())]}


@app.get("/api/maprun", dependencies=[READ_RUNS])
def map_run(dag_id: str, run_id: str, task_id: str | None = None) -> dict[str, Any]:
    """Status, counts, throughput, time left, tolerance and MaxConcurrency, live from the checkpoints."""
    reader, location = _located(dag_id, run_id, task_id)
    view = describe(staging_of(location))
    view.update(task_id=reader, dag_id=dag_id, run_id=run_id)
    if view.get("dialect") == "asl":
        view["describe_map_run"] = describe_map_run(view)
    return view


@app.get("/api/describe-map-run", dependencies=[READ_RUNS])
def describe_map_run_route(dag_id: str, run_id: str, task_id: str | None = None) -> dict[str, Any]:
    """The Map Run in the shape of Step Functions' ``DescribeMapRun``."""
    _, location = _located(dag_id, run_id, task_id)
    return describe_map_run(describe(staging_of(location)))


@app.get("/api/children", dependencies=[READ_RUNS, READ_TASKS])
def children(dag_id: str, run_id: str, task_id: str | None = None, status: str = Query("all"),
             offset: int = Query(0, ge=0), limit: int = Query(50, ge=1, le=200)) -> dict[str, Any]:
    """One page of child executions, filtered by status (all / succeeded / failed)."""
    if status not in STATUSES:
        raise HTTPException(422, f"status must be one of {', '.join(STATUSES)}")
    _, location = _located(dag_id, run_id, task_id)
    return children_page(staging_of(location), status=status, offset=offset, limit=limit).to_json()


def _read(store: Any, bucket: str, key: str) -> bytes:
    """At most ``MAX_FILE_BYTES`` + 1 bytes of an object (more: too large to show)."""
    stream = store.open(bucket, key)
    try:
        return stream.read(MAX_FILE_BYTES + 1)
    finally:
        stream.close()


def _manifest(location: dict[str, Any]) -> tuple[Any, str, str, dict[str, Any]]:
    """(store, bucket, key, manifest) of the Map Run's ResultWriter, from its ``summary.json``."""
    from ..hooks import store_resolver_for

    staging = staging_of(location)
    summary = read_json(staging, staging.key(SUMMARY_FILE)) or {}
    url = (summary.get("results") or {}).get("manifest")
    if not url:
        raise HTTPException(404, "this Map Run has no ResultWriter files (yet)")
    parsed = urlparse(url)
    store = store_resolver_for(location_options(location)).for_scheme(parsed.scheme)
    key = parsed.path.lstrip("/")
    try:
        manifest = json.loads(_read(store, parsed.netloc, key))
    except (NoSuchObject, StoreError, ValueError):
        raise HTTPException(404, "the ResultWriter manifest is not there (any more)") from None
    return store, parsed.netloc, key, manifest


@app.get("/api/results/manifest", dependencies=[READ_RUNS, READ_TASKS])
def results_manifest(dag_id: str, run_id: str, task_id: str | None = None) -> JSONResponse:
    """The ResultWriter's ``manifest.json``."""
    _, location = _located(dag_id, run_id, task_id)
    return JSONResponse(_manifest(location)[3])


def manifest_files(manifest: dict[str, Any]) -> list[str]:
    """The result files a manifest lists (CloudFlow ``ObjectName``, Step Functions ``Key``), in order."""
    files = manifest.get("ResultFiles") or {}
    return [entry.get("ObjectName") or entry.get("Key") for series in sorted(files) for entry in files[series] or ()
            if isinstance(entry, dict) and (entry.get("ObjectName") or entry.get("Key"))]


@app.get("/api/results/file", dependencies=[READ_RUNS, READ_TASKS])
def results_file(dag_id: str, run_id: str, task_id: str | None = None, n: int = Query(0, ge=0)) -> Response:
    """Result file number ``n`` of the manifest's list (never a key taken from the request)."""
    _, location = _located(dag_id, run_id, task_id)
    store, bucket, manifest_key, manifest = _manifest(location)
    keys = manifest_files(manifest)
    if n >= len(keys):
        raise HTTPException(404, f"the manifest lists {len(keys)} result files")
    folder = manifest_key.rsplit("/", 1)[0] + "/" if "/" in manifest_key else ""
    if not keys[n].startswith(folder) or ".." in keys[n].split("/"):
        raise HTTPException(404, "the manifest names a file outside its own folder")
    body = _read(store, bucket, keys[n])
    if len(body) > MAX_FILE_BYTES:
        raise HTTPException(413, "result file too large to show here")
    return Response(body, media_type="application/json")
