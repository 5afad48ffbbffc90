"""``airflow-cloudflow run DEFINITION --input JSON|@FILE [--mocks FILE] [--store DIR]
[--engine interpreter|airflow] [--json]``: execute a definition once.

Exit codes: 0 Succeeded, 1 Failed, 130/143 aborted by SIGINT/SIGTERM, 2 invalid definition (``path:line:col: CODE message`` lines on
stderr), bad ``--input``/``--mocks``, or an engine that is not available. With ``--json`` the last
line of stdout is exactly ``{"status", "output", "error": {"Code", "Detail"} | null}``, on every
exit code (exit 2: ``"Failed"`` with the first issue's code, or ``CLI.InvalidArgument``); it is
standard JSON (never ``NaN``), and an output that cannot be written as JSON fails the run (exit 1).
"""

from __future__ import annotations

import argparse

from .interrupt import interrupted_by_signals, report_interrupted
from .run_report import refuse, refuse_definition, report, usage_error
from .run_setup import UsageError, build_integrations, build_stores, parse_input


def read_earlier_map_run(url: str, stores):
    """``--redrive oss://bucket/…/manifest.json``: the earlier Map Run's results (exit 2 when unreadable)."""
    from ..exceptions import FlowError, StoreError
    from ..runtime.redrive import EarlierMapRun
    from ..storage.urls import parse_url

    try:
        where = parse_url(url)
        return EarlierMapRun.read(stores.for_scheme(where.scheme), where.bucket, where.key)
    except (ValueError, StoreError) as exc:
        raise UsageError(f"--redrive {url}: {exc}") from None
    except FlowError as exc:
        raise UsageError(f"--redrive {url}: {exc.detail}") from None


def _airflow_engine(args: argparse.Namespace) -> int:
    """``--engine airflow``: ``airflow_cloudflow.commands.run_airflow`` (imports Airflow)."""
    from . import run_airflow

    return int(run_airflow.main(args) or 0)


def main(args: argparse.Namespace) -> int:
    if getattr(args, "engine", "interpreter") == "airflow":
        if getattr(args, "redrive", None):
            return refuse(args, ["airflow-cloudflow run: --redrive runs with --engine interpreter; under Airflow, clear "
                                 "the failed tasks of the DAG run (Clear → only failed) to redrive its Map"])
        return _airflow_engine(args)
    from ..dialects import load_definition
    from ..exceptions import DefinitionError
    from ..runtime.interpreter import Interpreter

    from .substitutions import substitutions_for

    try:
        substitutions, issues = substitutions_for(args.definition, getattr(args, "substitutions", None))
        if issues:
            raise DefinitionError(issues)
        machine = load_definition(args.definition, substitutions)
    except DefinitionError as exc:
        return refuse_definition(args, exc.issues)
    except OSError as exc:
        return refuse(args, [f"{args.definition}:1:1: CF-E105 cannot read file: {exc.strerror or exc}"], "CF-E105")
    try:
        execution_input = parse_input(args.input, any_json=machine.dialect == "asl")
        stores = build_stores(args.store)
        integrations = build_integrations(args.mocks, stores)
        earlier = read_earlier_map_run(args.redrive, stores) if getattr(args, "redrive", None) else None
    except UsageError as exc:
        return usage_error(args, exc)
    interpreter = Interpreter(machine, integrations=integrations, stores=stores)
    try:
        with interrupted_by_signals():
            if earlier is None:
                result = interpreter.execute(execution_input)
            else:
                from ..runtime.redrive import redrive_runner

                result = interpreter.using(distributed_runner=redrive_runner(earlier)).execute(
                    execution_input, redrive_count=earlier.redrive_count)
    except KeyboardInterrupt as exc:
        return report_interrupted(exc, args.json)
    return report(args, result.as_json(), machine.dialect, result.failed_state)
