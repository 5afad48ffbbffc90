"""The plugin is found by Airflow's own plugins manager through this package's entry point."""

from __future__ import annotations


def test_airflow_loads_the_plugin_from_the_entry_point_with_its_app_and_tabs(airflow_home):
    from airflow import plugins_manager

    plugins, errors = plugins_manager._get_plugins()
    # from a source checkout the package's metadata is found twice (the editable install and the
    # in-tree egg-info on sys.path): Airflow keeps the first and says so; nothing else may fail
    assert set(errors.values()) <= {"Plugin 'cloudflow_map_run' already registered, skipping"}
    (plugin,) = [p for p in plugins if p.name == "cloudflow_map_run"]
    assert "airflow_cloudflow.providers.ui.plugin:CloudFlowMapRunPlugin" in str(plugin.source)
    apps, _ = plugins_manager.get_fastapi_plugins()
    assert [a["url_prefix"] for a in apps if a["name"] == "CloudFlow Map Run"] == ["/cloudflow"]
    views, _ = plugins_manager._get_ui_plugins()
    ours = {v["destination"]: v["href"] for v in views if v.get("url_route", "").startswith("cloudflow_")}
    assert ours == {
        "dag_run": "/cloudflow/maprun?dag_id={DAG_ID}&run_id={RUN_ID}",
        "task_instance": "/cloudflow/maprun?dag_id={DAG_ID}&run_id={RUN_ID}&task_id={TASK_ID}",
    }
