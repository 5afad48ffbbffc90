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
import json
import sys
from pathlib import Path
from typing import Any

from .interrupt import interrupted_by_signals, report_interrupted

EXIT_SUCCEEDED, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


USAGE_CODE = "CLI.InvalidArgument"
"""``--json``'s error code for a bad command line (``--input``, ``--mocks``, ``--store``…)."""
OUTPUT_NOT_JSON = {"asl": "States.Runtime", "cloudflow": "FnF.RuntimeError"}
"""The code a run fails with when its output cannot be written as standard JSON."""


class UsageError(Exception):
    """A problem with the command line (exit 2)."""


def parse_input(text: str, any_json: bool = False) -> Any:
    """``--input``: a JSON text, or ``@FILE``; "the execution input must be a JSON object" (an ASL
    machine, ``any_json``, takes any JSON value). UTF-8 standard JSON only (``jsonvalues.loads_strict``:
    no NaN/Infinity, no integer over 4,300 digits, nesting at most 200 deep)."""
    from ..jsonvalues import RejectedJson, loads_strict

    source = "--input"
    if text.startswith("@"):
        source = text[1:]
        try:
            text = Path(source).read_bytes().decode("utf-8-sig")
        except OSError as exc:
            raise UsageError(f"cannot read input file {source}: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise UsageError(f"input file {source} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    elif any("\udc80" <= c <= "\udcff" for c in text):  # bytes the locale could not decode
        raise UsageError("--input is not UTF-8 text")
    try:
        value = loads_strict(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source} is not valid JSON: {exc}") from None
    except RejectedJson as exc:
        raise UsageError(f"{source} is not standard JSON: {exc}") from None
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


def refuse(args: argparse.Namespace, lines: list[str], code: str = USAGE_CODE) -> int:
    """Exit 2: ``lines`` on stderr and, with ``--json``, the result object carrying them."""
    from ..exceptions import cap_error_text

    for line in lines:
        print(line, file=sys.stderr)
    if getattr(args, "json", False):
        error = {"Code": code, "Detail": cap_error_text("\n".join(lines))}
        sys.stdout.write(json.dumps({"status": "Failed", "output": None, "error": error}) + "\n")
    return EXIT_USAGE


def refuse_definition(args: argparse.Namespace, issues) -> int:
    """Exit 2 for an invalid definition: its error lines, the first error's code under ``--json``."""
    errors = [i for i in issues if i.is_error] or list(issues)
    return refuse(args, [str(i) for i in errors], errors[0].code if errors else "CF-E100")


def usage_error(args: argparse.Namespace, exc: UsageError) -> int:
    return refuse(args, [f"airflow-cloudflow run: {exc}"])


def report(args: argparse.Namespace, result: dict[str, Any], dialect: str, failed_state: str | None = None) -> int:
    """Print a finished run (``{"status", "output", "error"}``) and return its exit code. Output that
    is not standard JSON (``NaN``, an integer too long to write) fails the run instead of being printed."""
    from ..exceptions import cap_error_text
    from ..jsonvalues import RejectedJson, dumps_strict

    try:
        text = dumps_strict(result) if args.json else dumps_strict(result["output"], indent=2, ensure_ascii=False)
    except RejectedJson as exc:
        result = {"status": "Failed", "output": None,
                  "error": {"Code": OUTPUT_NOT_JSON.get(dialect, OUTPUT_NOT_JSON["cloudflow"]),
                            "Detail": f"the execution output is not standard JSON: {exc}"}}
        text = json.dumps(result) if args.json else None
    succeeded = result["status"] == "Succeeded"
    if args.json:
        sys.stdout.write(text + "\n")
    elif succeeded:
        print(text)
    else:
        error = result["error"] or {}
        where = f" in state {failed_state!r}" if failed_state else ""
        print(f"Failed{where}: {error.get('Code')}", file=sys.stdout)
        if error.get("Detail"):
            print(f"  {cap_error_text(error['Detail'])}")
    return EXIT_SUCCEEDED if succeeded else EXIT_FAILED


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
