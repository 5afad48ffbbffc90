"""The Map Run view's routes inside Airflow's own api-server app (``create_app``, the plugin loaded
from this package's entry point), against a Map Run that ``dag.test()`` really ran: what they
show, that each needs Airflow's authentication and DAG-run authorisation, and that nothing in
them names a secret or reads outside the run's staging area."""

from __future__ import annotations

import json

import pytest

from tests.providers.airflow_env import AirflowHome
from tests.providers.ui.support import DAG_ID, FAILING, ITEMS, OUTSIDER, run_map

SETTINGS = {
    "AIRFLOW__CORE__AUTH_MANAGER": "tests.providers.ui.support.OutsiderAuthManager",
    # the test home makes everyone an admin without a token (what the UI tests need); not here
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
}


@pytest.fixture(scope="module")
def run(airflow_home: AirflowHome):
    return run_map(airflow_home.dags_folder, DAG_ID)


@pytest.fixture(scope="module")
def api(run):
    import os

    from fastapi.testclient import TestClient

    from airflow.api_fastapi import app as api_app

    previous = {key: os.environ.get(key) for key in SETTINGS}
    os.environ.update(SETTINGS)
    api_app.purge_cached_app()
    try:
        app = api_app.create_app()
        yield TestClient(app), api_app.get_auth_manager()
    finally:
        api_app.purge_cached_app()
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _token(manager, username: str, role: str) -> dict[str, str]:
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return {"Authorization": f"Bearer {manager.generate_jwt(SimpleAuthManagerUser(username=username, role=role))}"}


def _params(run) -> dict[str, str]:
    return {"dag_id": run.dag_id, "run_id": run.run_id}


def test_the_view_shows_counts_tolerance_failures_and_results_of_a_finished_map_run(run, api):
    client, manager = api
    viewer = _token(manager, "vera", "viewer")
    assert run.state == "success"
    view = client.get("/cloudflow/api/maprun", params=_params(run), headers=viewer)
    assert view.status_code == 200, view.text
    body = view.json()
    assert body["status"] == "SUCCEEDED" and body["state"] == "Orders" and body["task_id"] == "Orders"
    assert body["counts"] == {"succeeded": ITEMS - len(FAILING), "failed": len(FAILING), "running": 0, "pending": 0,
                              "total": ITEMS}
    assert body["tolerance"]["percentage"] == 30 and body["tolerance"]["failure_rate"] == 10.0
    assert body["max_concurrency"] == 8
    assert body["summary"].startswith(f"Map Run {body['map_run_name']}: 36 succeeded, 4 failed of 40 (tolerated ≤ 30 %, "
                                      "actual 10.0 %); results oss://results/orders/")
    # the same Map Run from the tab of its processor task
    shard_view = client.get("/cloudflow/api/maprun", params={**_params(run), "task_id": "Orders__process"},
                            headers=viewer)
    assert shard_view.json()["map_run_name"] == body["map_run_name"]

    failed = client.get("/cloudflow/api/children", params={**_params(run), "status": "failed"}, headers=viewer).json()
    assert failed["total"] == len(FAILING)
    assert sorted(r["index"] for r in failed["rows"]) == sorted(FAILING)
    assert {r["error"] for r in failed["rows"]} == {"Orders.Rejected"}
    assert body["recent_failures"][0]["cause"] == "negative amount"
    page = client.get("/cloudflow/api/children", params={**_params(run), "offset": 35, "limit": 10}, headers=viewer)
    assert len(page.json()["rows"]) == 5 and page.json()["total"] == ITEMS

    manifest = client.get("/cloudflow/api/results/manifest", params=_params(run), headers=viewer)
    assert manifest.status_code == 200 and set(manifest.json()["ResultFiles"]) == {"FAILED", "SUCCEED"}
    first = client.get("/cloudflow/api/results/file", params={**_params(run), "n": 0}, headers=viewer)
    assert first.status_code == 200 and {r["Status"] for r in json.loads(first.content)} == {"Failed"}

    html = client.get("/cloudflow/maprun", params=_params(run), headers=viewer)
    assert html.status_code == 200 and "Map Run" in html.text


def test_every_route_needs_a_token_and_read_access_to_the_dags_runs(run, api):
    client, manager = api
    routes = ["/cloudflow/maprun", "/cloudflow/api/maps", "/cloudflow/api/maprun", "/cloudflow/api/describe-map-run",
              "/cloudflow/api/children", "/cloudflow/api/results/manifest", "/cloudflow/api/results/file"]
    for route in routes:
        assert client.get(route, params=_params(run)).status_code == 401, route
        assert client.get(route, params=_params(run), headers={"Authorization": "Bearer forged"}).status_code == 403
        # an admin role does not help a user the auth manager denies this DAG's runs
        denied = client.get(route, params=_params(run), headers=_token(manager, OUTSIDER, "admin"))
        assert denied.status_code == 403, (route, denied.text)
        assert client.get(route, params=_params(run), headers=_token(manager, "vera", "viewer")).status_code == 200
    # the UI's session cookie is Airflow's own credential too
    client.cookies.set("_token", _token(manager, "vera", "viewer")["Authorization"].removeprefix("Bearer "))
    try:
        assert client.get("/cloudflow/api/maprun", params=_params(run)).status_code == 200
    finally:
        client.cookies.clear()


def test_the_request_cannot_point_the_view_at_another_runs_staging(run, api):
    client, manager = api
    viewer = _token(manager, "vera", "viewer")
    # a run id that is not this DAG's, a task that is no Map, a traversal: nothing is found, nothing is read
    for params in ({"dag_id": run.dag_id, "run_id": run.run_id + "x"},
                   {"dag_id": "other_dag", "run_id": run.run_id},
                   {**_params(run), "task_id": "../Orders"},
                   {**_params(run), "task_id": "finish"}):
        assert client.get("/cloudflow/api/maprun", params=params, headers=viewer).status_code == 404
    assert client.get("/cloudflow/api/children", params={**_params(run), "status": "../x"},
                      headers=viewer).status_code == 422
    assert client.get("/cloudflow/api/results/file", params={**_params(run), "n": 99},
                      headers=viewer).status_code == 404


def test_no_response_carries_a_credential_or_a_local_path(run, api):
    client, manager = api
    viewer = _token(manager, "vera", "viewer")
    texts = [client.get(route, params=_params(run), headers=viewer).text
             for route in ("/cloudflow/api/maps", "/cloudflow/api/maprun", "/cloudflow/api/children")]
    for text in texts:
        assert str(run.folder) not in text  # staging and store folders stay server-side
        assert "oss_conn_id" not in text and "password" not in text.lower() and "secret" not in text.lower()


def test_the_result_writer_task_returns_the_summary_as_xcom(run, api):
    from sqlalchemy import select

    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.scalars(select(XComModel).where(
            XComModel.dag_id == run.dag_id, XComModel.run_id == run.run_id, XComModel.task_id == "Orders__results",
            XComModel.key == "cloudflow_map_run_summary")).one()
        summary = XComModel.deserialize_value(row)
    assert summary["status"] == "SUCCEEDED" and summary["state"] == "Orders"
    assert summary["items"] == {"succeeded": ITEMS - len(FAILING), "failed": len(FAILING), "total": ITEMS}
    assert summary["tolerance"] == {"count": None, "percentage": 30, "actual_percentage": 10.0}
    assert summary["results"]["manifest"].startswith("oss://results/orders/")
    assert summary["line"].startswith(f"Map Run {summary['map_run_name']}: 36 succeeded, 4 failed of 40")
