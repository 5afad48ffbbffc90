"""``airflow-cloudflow run DEFINITION --input JSON|@FILE [--mocks FILE] [--store DIR]
[--engine interpreter|airflow] [--json]``: execute a definition once.

Exit codes: 0 Succeeded, 1 Failed, 2 invalid definition (``path:line:col: CODE message`` lines on
stderr), bad ``--input``/``--mocks``, or an engine that is not available. With ``--json`` the last
line of stdout is exactly ``{"status", "output", "error": {"Code", "Detail"} | null}``.
"""

from __future__ import annotations

import argparse
import json
import sys

from .run_setup import EXIT_FAILED, EXIT_SUCCEEDED, EXIT_USAGE, UsageError, build_integrations, build_stores, parse_input


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
            print("airflow-cloudflow run: --redrive runs with --engine interpreter; under Airflow, clear the "
                  "failed tasks of the DAG run (Clear → only failed) to redrive its Map", file=sys.stderr)
            return EXIT_USAGE
        return _airflow_engine(args)
    from ..dialects import load_definition
    from ..exceptions import DefinitionError
    from ..runtime.interpreter import Interpreter

    try:
        machine = load_definition(args.definition)
    except DefinitionError as exc:
        for issue in exc.issues:
            print(str(issue), file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"{args.definition}:1:1: CF-E105 cannot read file: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        execution_input = parse_input(args.input, any_json=machine.dialect == "asl")
        stores = build_stores(args.store)
        integrations = build_integrations(args.mocks, stores)
        earlier = read_earlier_map_run(args.redrive, stores) if getattr(args, "redrive", None) else None
    except UsageError as exc:
        print(f"airflow-cloudflow run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    interpreter = Interpreter(machine, integrations=integrations, stores=stores)
    if earlier is None:
        result = interpreter.execute(execution_input)
    else:
        from ..runtime.redrive import redrive_runner

        result = interpreter.using(distributed_runner=redrive_runner(earlier)).execute(
            execution_input, redrive_count=earlier.redrive_count)
    if args.json:
        sys.stdout.write(json.dumps(result.as_json()) + "\n")
    elif result.succeeded:
        print(json.dumps(result.output, indent=2, ensure_ascii=False))
    else:
        error = result.error
        print(f"Failed in state {result.failed_state!r}: {error.code}", file=sys.stdout)
        if error.detail:
            print(f"  {error.detail}")
    return EXIT_SUCCEEDED if result.succeeded else EXIT_FAILED
