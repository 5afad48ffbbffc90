"""Airflow-free planning: model → DAG plan, and shard spooling for distributed Maps."""
