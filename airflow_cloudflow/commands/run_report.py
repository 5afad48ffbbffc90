"""How both engines of ``airflow-cloudflow run`` answer: a refused command line or definition (exit
2) and a finished run, on stderr/stdout and, with ``--json``, as the one result object."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .run_setup import EXIT_FAILED, EXIT_SUCCEEDED, EXIT_USAGE, UsageError

USAGE_CODE = "CLI.InvalidArgument"
"""``--json``'s error code for a bad command line (``--input``, ``--mocks``, ``--store``…)."""
OUTPUT_NOT_JSON = {"asl": "States.Runtime", "cloudflow": "FnF.RuntimeError"}
"""The code a run fails with when its output cannot be written as standard JSON."""



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
