"""``airflow-cloudflow run DEFINITION --input JSON|@FILE [--mocks FILE] [--store DIR]
[--engine interpreter|airflow] [--json]``: execute a definition once.

Exit codes: 0 Succeeded, 1 Failed, 130/143 aborted by SIGINT/SIGTERM, 2 invalid definition (``path:line:col: CODE message`` lines on
stderr), bad ``--input``/``--mocks``, or an engine that is not available. With ``--json`` the last
line of stdout is exactly ``{"status", "output", "error": {"Code", "Detail"} | null}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .interrupt import interrupted_by_signals, report_interrupted

EXIT_SUCCEEDED, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A problem with the command line (exit 2)."""


def parse_input(text: str, any_json: bool = False) -> Any:
    """``--input``: a JSON text, or ``@FILE``; "the execution input must be a JSON object" (an ASL
    machine, ``any_json``, takes any JSON value)."""
    source = "--input"
    if text.startswith("@"):
        source = text[1:]
        try:
            text = Path(source).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise UsageError(f"cannot read input file {source}: {exc.strerror or exc}") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source} is not valid JSON: {exc}") from None
    if not isinstance(value, dict) and not any_json:
        raise UsageError(f"{source} must be a JSON object, got {type(value).__name__}")
    return value


def build_integrations(mocks: str | None, stores=None):
    """The real integrations (OSS actions on ``stores``, i.e. ``--store DIR`` when given), with the
    ``--mocks`` fakes in front of them."""
    from ..integrations.mocks import load_mocks
    from ..integrations.registry import default_registry

    real = default_registry(stores=stores) if stores is not None else default_registry()
    if not mocks:
        return real
    try:
        return load_mocks(mocks, fallback=real)
    except OSError as exc:
        raise UsageError(f"cannot read mocks file {mocks}: {exc.strerror or exc}") from None
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        raise UsageError(f"invalid mocks file {mocks}: {exc}") from None


def build_stores(store: str | None):
    from ..exceptions import StoreError
    from ..storage.resolver import StoreResolver

    if store:
        if not Path(store).is_dir():
            raise UsageError(f"--store {store}: not a directory")
        return StoreResolver.local(store)
    try:
        return StoreResolver.from_environment()
    except (StoreError, ValueError) as exc:
        raise UsageError(f"cannot configure object storage from the environment: {exc}") from None


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

    from .substitutions import substitutions_for

    try:
        substitutions, issues = substitutions_for(args.definition, getattr(args, "substitutions", None))
        if issues:
            raise DefinitionError(issues)
        machine = load_definition(args.definition, substitutions)
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
