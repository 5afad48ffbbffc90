"""Per-process runtime objects for operators: the interpreter, stores, staging, execution identity.

Operators hold only the model and the DAG options; everything that talks to storage or needs
configuration is built here lazily at execute time (never at parse time: no network I/O while the
DAG file is parsed).
"""

from __future__ import annotations

import re
from typing import Any

from ..integrations.mocks import load_mocks
from ..model import StateMachine
from ..runtime.interpreter import Interpreter
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
