"""The Airflow layer: settings, hooks, operators, the planner→builder and the DAGs-folder loader.

Only this package (and ``get_provider_info``) imports ``airflow``. Importing the package itself
imports nothing from Airflow, so ``airflow_cloudflow.providers.settings`` stays usable without it;
each submodule imports the Airflow parts it needs.
"""
