"""Per-DAG Airflow settings kept outside the definition (so it stays deployable to the cloud as is).

They come from a sidecar file and/or folder defaults (see ``providers/sidecar.py``); the DAG builder
reads only this typed record. No Airflow import here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class DagOptions:
    """How one definition becomes a DAG. Every field has a default that works out of the box."""

    schedule: Any = None
    """Cron expression or preset (``@daily``), or an ``AssetRef``/``AssetCondition``
    (``providers/asset_schedule.py``): runs when those assets are updated; None: triggered runs only."""
    start_date: datetime | None = None
    """First logical date; None: 2024-01-01 UTC (irrelevant for unscheduled DAGs)."""
    catchup: bool = False
    tags: tuple[str, ...] = ()
    owner: str | None = None
    default_input: dict[str, Any] = field(default_factory=dict)
    """The execution input when a run is triggered without conf (shown in the trigger form)."""
    oss_conn_id: str = "oss_default"
    aws_conn_id: str = "aws_default"
    pool: str | None = None
    retries: int = 0
    """Airflow retries of state tasks (the flow's own Retry rules are applied in-process)."""
    shard_retries: int = 2
    """Airflow retries of each processor shard instance (crash recovery; never duplicates results)."""
    shard_retry_delay: float = 5.0
    """Seconds before a crashed shard instance is retried."""
    local_store: str | None = None
    """A local folder serving oss:// and s3:// (demos, tests); None: real storage via connections."""
    staging_url: str | None = None
    """Where shards and child results are staged; None: ``[cloudflow] staging_url``."""
    max_shards: int | None = None
    """Cap on the shards of one Map Run; None: ``[cloudflow] max_shards``."""
    shard_size: int | None = None
    """Children per shard, replacing the cost-based plan; None: ``[cloudflow] shard_size`` (0: planned)."""
    shard_parallelism: int | None = None
    """Shard instances of one Map that can run at once; None: ``[cloudflow] shard_parallelism``
    (0: measured from the executor and Airflow's concurrency settings)."""
    mocks: str | None = None
    """A ``--mocks`` file (path) binding Task resources to fakes, for local testing of a flow."""
    subflows: str = "dag_run"
    """How a top-level sub-flow Task runs: ``dag_run`` (a real DAG run of the child's DAG, the
    task deferred while waiting) or ``in_process`` (the child interpreted inside the task; what
    ``run --engine airflow`` uses, as ``dag.test()`` runs only its own DAG)."""
    input_schema: dict[str, Any] | None = None
    """A JSON Schema of the execution input: its properties become typed, described trigger-form
    fields (Airflow ``Params``)."""
    source_path: str | None = None
    """The definition file, shown in the DAG docs."""
    dag_id: str | None = None
    """The DAG's id instead of the one derived from the flow Name / file name (sidecar only)."""
    definition_substitutions: dict[str, str] = field(default_factory=dict)
    """``${name}`` → value, filled into the definition's text before it is parsed."""
