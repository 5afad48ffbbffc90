"""Plain-Python spike DAGs the harness tests write into the temporary DAGs folder.

``spike_map`` is the distributed Map's shape: a reader task returns shard descriptions, a
processor task is mapped over them (bounded concurrency, retries, a readable map index), and an
``all_done`` collector pulls the mapped return values. Its run conf steers it:

* ``shards`` (default 5), ``multiplier`` (default 1);
* ``fail_shard``: that shard always raises;
* ``slow_shard`` + ``pid_dir``: on its first try that shard writes ``<pid_dir>/<map_index>.pid``
  and sleeps until it is killed (at most ``slow_seconds``, default 600).
"""

from __future__ import annotations

SPIKE_MAP_DAG_ID = "spike_map"

SPIKE_MAP_SOURCE = '''
from __future__ import annotations

import os
import time
from datetime import timedelta

from airflow.sdk import DAG, get_current_context, task

with DAG(
    dag_id="spike_map",
    schedule=None,
    catchup=False,
    default_args={"retries": 1, "retry_delay": timedelta(seconds=1)},
):

    @task
    def read_items() -> list[dict]:
        conf = get_current_context()["dag_run"].conf or {}
        return [{"shard": i, "items": list(range(i * 10, i * 10 + 10))} for i in range(conf.get("shards", 5))]

    @task(max_active_tis_per_dagrun=2, map_index_template="{{ shard_label }}")
    def process(shard: dict) -> int:
        context = get_current_context()
        context["shard_label"] = f"shard-{shard['shard']}"
        conf = context["dag_run"].conf or {}
        ti = context["ti"]
        if conf.get("fail_shard") == shard["shard"]:
            raise ValueError(f"shard {shard['shard']} fails on purpose")
        if conf.get("slow_shard") == shard["shard"] and ti.try_number == 1:
            with open(os.path.join(conf["pid_dir"], f"{ti.map_index}.pid"), "w") as marker:
                marker.write(str(os.getpid()))
            deadline = time.monotonic() + conf.get("slow_seconds", 600)
            while time.monotonic() < deadline:
                time.sleep(0.5)
        return sum(shard["items"]) * conf.get("multiplier", 1)

    @task(trigger_rule="all_done")
    def collect(results) -> dict:
        ti = get_current_context()["ti"]
        values = list(results)
        return {
            "values": values,
            "total": sum(values),
            "failed": ti.get_ti_count(
                dag_id=ti.dag_id, run_ids=[ti.run_id], task_ids=["process"], states=["failed"]
            ),
        }

    collect(process.expand(shard=read_items()))
'''
