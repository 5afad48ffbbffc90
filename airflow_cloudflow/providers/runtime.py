"""Per-process runtime objects for operators: the interpreter, stores, staging, execution identity.

Operators hold only the model and the DAG options; everything that talks to storage or needs
configuration is built here lazily at execute time (never at parse time: no network I/O while the
DAG file is parsed).
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import Any
from urllib.parse import urlparse

from ..integrations.mocks import load_mocks
from ..model import StateMachine
from ..planning.shards import Staging
from ..runtime.interpreter import Interpreter
from ..storage.local import LocalStore
from ..storage.recording import RecordingResolver
from .options import DagOptions

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_-]")


def execution_name(run_id: str) -> str:
    """The CloudFlow execution name of a DAG run: its run id made a valid execution name."""
    name = _UNSAFE_NAME.sub("_", run_id)
    if not name or not (name[0].isalpha() or name[0] == "_"):
        name = "run_" + name
    return name[:128]


INPUT_KEY = "$input"
"""A DAG run conf ``{"$input": <any JSON>}`` carries a non-object execution input (ASL machines
accept any JSON value; Airflow's conf must be an object)."""


def execution_input(options: DagOptions, conf: Any) -> Any:
    """"The execution input is the DAG run conf, a JSON object", over the sidecar's default input;
    or the value of ``conf["$input"]`` when that is the conf's only key."""
    if isinstance(conf, dict) and list(conf) == [INPUT_KEY]:
        return conf[INPUT_KEY]
    return {**options.default_input, **(conf or {})}


def _store_resolver(options: DagOptions):
    from .hooks import store_resolver_for

    return store_resolver_for(options)


_MOCKS: dict[tuple[str, str], Any] = {}


def build_interpreter(machine: StateMachine, options: DagOptions, run_id: str = "") -> Interpreter:
    """An interpreter wired to the DAG's stores and, when the sidecar names one, a mocks file.

    Mocks are shared by the tasks of one DAG run that execute in the same process (``dag.test()``),
    so ``fail_first_n`` counts "the first n invocations … in one execution" across states there.
    """
    from .integrations import airflow_registry

    if options.mocks:
        key = (options.mocks, run_id)
        integrations = _MOCKS.get(key)
        if integrations is None:
            if len(_MOCKS) >= 64:  # a long-lived worker keeps only recent runs' fakes
                _MOCKS.pop(next(iter(_MOCKS)))
            integrations = _MOCKS[key] = load_mocks(options.mocks, fallback=airflow_registry(options))
    else:
        integrations = airflow_registry(options)
    return Interpreter(machine, integrations=integrations, stores=RecordingResolver(_store_resolver(options)))


@lru_cache(maxsize=8)
def settings():
    """This process's ``[cloudflow]`` settings (read once)."""
    from .config import load_settings

    return load_settings()



class StagingNotShared(RuntimeError):
    """The staging default (a folder under AIRFLOW_HOME) with an executor whose workers have their
    own disks: shards written by one worker would be invisible to the others."""


def check_staging_shared(options: DagOptions) -> None:
    """Fail fast, before any item is read, on a configuration that would lose results."""
    if options.staging_url or _configured_staging():
        return
    from .shard_slots import LOCAL_EXECUTORS, executor_name

    executor = executor_name()
    if executor not in LOCAL_EXECUTORS:
        raise StagingNotShared(
            f"[cloudflow] staging_url is not set, so shards are staged in a folder under AIRFLOW_HOME, "
            f"which the workers of the {executor} do not share: set [cloudflow] staging_url "
            f"(AIRFLOW__CLOUDFLOW__STAGING_URL) to oss://bucket/prefix or s3://bucket/prefix "
            f"(or staging_url in the flow's sidecar)"
        )


def _configured_staging() -> bool:
    """Whether ``[cloudflow] staging_url`` is set at all (airflow.cfg or AIRFLOW__CLOUDFLOW__STAGING_URL)."""
    from airflow.sdk import conf

    return bool((conf.get("cloudflow", "staging_url", fallback="") or "").strip())


def staging_at(options: DagOptions, prefix: str, *, absolute: bool = False) -> Staging:
    """The staging area of one Map Run: ``staging_url`` (sidecar, else ``[cloudflow]``) + ``prefix``.

    ``absolute``: ``prefix`` is already a full prefix returned by an earlier call (``Staging.prefix``).
    """
    url = options.staging_url or settings().staging_url
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        path = os.path.abspath(parsed.path if parsed.scheme else url)
        store = LocalStore(os.path.dirname(path))
        bucket = os.path.basename(path)
        store.create_bucket(bucket)
        return Staging(store, bucket, prefix)
    if parsed.scheme in ("oss", "s3"):
        store = _store_resolver(options).for_scheme(parsed.scheme)
        base = parsed.path.strip("/")
        return Staging(store, parsed.netloc, f"{base}/{prefix}" if base and not absolute else prefix)
    raise ValueError(f"[cloudflow] staging_url must be file://, oss:// or s3://, got {url!r}")




def staging_location(options: DagOptions, prefix: str) -> dict[str, Any]:
    """Where a Map Run's staging area is, as the Map Run view finds it again in the api-server
    (the ItemReader task's XCom): the staging URL, the absolute prefix and the connection ids
    (names, never secrets) or local folder the DAG reads its stores with."""
    return {"url": options.staging_url or settings().staging_url, "prefix": prefix,
            "oss_conn_id": options.oss_conn_id, "aws_conn_id": options.aws_conn_id,
            "local_store": options.local_store}


def location_options(location: dict[str, Any]) -> DagOptions:
    """The store settings of a ``staging_location`` (what the view needs to open its stores)."""
    return DagOptions(staging_url=location["url"], oss_conn_id=location.get("oss_conn_id") or "oss_default",
                      aws_conn_id=location.get("aws_conn_id") or "aws_default",
                      local_store=location.get("local_store"))


def staging_of(location: dict[str, Any]) -> Staging:
    """The ``Staging`` of a ``staging_location``."""
    return staging_at(location_options(location), location["prefix"], absolute=True)
