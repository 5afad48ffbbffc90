"""The Airflow 3 UI plugin: the Map Run view's FastAPI app and its tabs on a DAG run and a task instance.

Airflow loads it from the ``airflow.plugins`` entry point of this package (``pip install`` is all
it takes). External views are iframes whose ``href`` Airflow fills in with the run's
``{DAG_ID}``/``{RUN_ID}``/``{TASK_ID}``; the page they load and every route it calls are the
plugin's own FastAPI routes, behind Airflow's auth (``api.py``).
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from .links import URL_PREFIX, MapRunLink, ResultsLink


class CloudFlowMapRunPlugin(AirflowPlugin):
    name = "cloudflow_map_run"
    operator_extra_links = [MapRunLink(), ResultsLink()]

    @property
    def fastapi_apps(self):  # imported on use: only the api-server needs the app
        from .api import app

        return [{"app": app, "url_prefix": URL_PREFIX, "name": "CloudFlow Map Run"}]

    external_views = [
        {"name": "Map Run", "href": f"{URL_PREFIX}/maprun?dag_id={{DAG_ID}}&run_id={{RUN_ID}}",
         "destination": "dag_run", "url_route": "cloudflow_map_run"},
        {"name": "Map Run", "href": f"{URL_PREFIX}/maprun?dag_id={{DAG_ID}}&run_id={{RUN_ID}}&task_id={{TASK_ID}}",
         "destination": "task_instance", "url_route": "cloudflow_map_run_task"},
    ]
