"""The Map Run view: an Airflow 3 UI plugin (FastAPI app + external views) and the operator links
that point at it. Registered through the ``airflow.plugins`` entry point (docs/ui.md)."""
