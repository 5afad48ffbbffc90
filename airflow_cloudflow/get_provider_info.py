"""Provider metadata for Airflow's providers manager (entry point ``apache_airflow_provider``).

Airflow reads this dict to list the provider, to offer the ``oss`` connection type in the UI and
to know the ``[cloudflow]`` configuration options and their defaults. It must stay importable
without Airflow (no ``airflow`` import here) and cheap: the providers manager calls it in every
Airflow process.
"""

from __future__ import annotations

from typing import Any

from . import __version__

OSS_HOOK_CLASS = "airflow_cloudflow.providers.hooks.OssHook"


def _option(description: str, type_: str, default: str, example: str | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "version_added": "0.1.0",
        "type": type_,
        "example": example,
        "default": default,
    }


CONFIG_OPTIONS: dict[str, dict[str, Any]] = {
    "max_shards": _option(
        "Cap on the mapped processor instances of one distributed Map. The effective cap is the "
        "smaller of this and ``[core] max_map_length``; items are packed into at most this many shards.",
        "integer",
        "256",
    ),
    "shard_size": _option(
        "Children (items or batches) per shard, replacing the cost-based plan. 0 (the default) plans "
        "the shards by cost: one per shard instance that can run at once, fewer when the children are "
        "too few to pay for a shard's fixed cost (docs/scaling.md). More children go into a shard when "
        "``max_shards`` would otherwise be exceeded.",
        "integer",
        "0",
    ),
    "shard_parallelism": _option(
        "Shard instances of one distributed Map that can run at once. 0 (the default) measures it: the "
        "smallest of the Map's mapped-instance cap (from MaxConcurrency), ``[core] parallelism``, "
        "``[core] max_active_tasks_per_dag`` and the executor's slots (LocalExecutor: the host's CPUs; "
        "CeleryExecutor: ``[celery] worker_concurrency``). Set it to the total slots of your workers "
        "(or of a smaller pool the shards run in).",
        "integer",
        "0",
        "32",
    ),
    "shard_overhead_seconds": _option(
        "The measured fixed cost of one shard instance (task start-up, DAG parse, store client) the "
        "shard planner weighs against the children's work.",
        "float",
        "1.0",
    ),
    "child_seconds": _option(
        "The planner's estimate of one child execution's work in seconds (a few Pass/Choice states "
        "take ~50 µs). Raise it for heavy processors so more shards are planned for fewer children.",
        "float",
        "0.00005",
    ),
    "staging_url": _option(
        "Where the ItemReader task writes shards and the processor writes child results "
        "(``oss://bucket/prefix``, ``s3://bucket/prefix`` or ``file:///path``). Empty means the "
        "folder ``cloudflow/staging`` under AIRFLOW_HOME, which only works when all workers share it.",
        "string",
        "",
        "s3://my-bucket/cloudflow-staging",
    ),
    "allowed_modules": _option(
        "Comma-separated Python module prefixes whose callables (``Python:Call``) and operator classes "
        "(``Airflow:Operator``) a Task state may use. Empty allows none.",
        "string",
        "",
        "mycompany.flows,mycompany.etl",
    ),
    "strict_loading": _option(
        "When True, one invalid definition in the DAGs folder fails the whole loader file (an import "
        "error for every DAG in it); when False the invalid file is reported and the others still load.",
        "boolean",
        "False",
    ),
}


def get_provider_info() -> dict[str, Any]:
    """Return the provider description Airflow validates against ``provider_info.schema.json``."""
    return {
        "package-name": "airflow-cloudflow",
        "name": "CloudFlow",
        "description": (
            "Run Alibaba Cloud CloudFlow flows and AWS Step Functions state machines, "
            "distributed Map included, as native Airflow DAGs."
        ),
        "versions": [__version__],
        "connection-types": [
            {
                "connection-type": "oss",
                "hook-class-name": OSS_HOOK_CLASS,
                "hook-name": "Alibaba Cloud OSS (CloudFlow)",
            }
        ],
        "asset-uris": [
            {
                "schemes": ["oss"],
                "handler": "airflow_cloudflow.providers.assets.sanitize_oss_uri",
                "factory": "airflow_cloudflow.providers.assets.create_oss_asset",
                "to_openlineage_converter": "airflow_cloudflow.providers.assets.convert_oss_asset_to_openlineage",
            }
        ],
        "config": {
            "cloudflow": {
                "description": "Options of the airflow-cloudflow provider (CloudFlow / Step Functions DAGs).",
                "options": CONFIG_OPTIONS,
            }
        },
    }
