"""Provider metadata for Airflow's providers manager (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from . import __version__


def get_provider_info() -> dict:
    return {
        "package-name": "airflow-cloudflow",
        "name": "CloudFlow",
        "description": "Run Alibaba Cloud CloudFlow flows and AWS Step Functions state machines as Airflow DAGs.",
        "versions": [__version__],
    }
