"""``airflow-cloudflow run … --engine airflow``: the same contract as the interpreter engine, run
through Airflow (``dag.test()``; a temporary SQLite Airflow home when none is configured; a configured
one whose database is new is migrated first, one at an older revision is an error saying to run
``airflow db migrate``).

Airflow's own logging goes to stderr while it runs and after the result is printed (its shutdown
hooks still log at interpreter exit), so the ``--json`` object stays the last line of stdout.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path

from ..dialects import dialect_for, lint_path
from .interrupt import interrupted_by_signals, report_interrupted
from .run_report import refuse, refuse_definition, report, usage_error
from .run_setup import UsageError, build_integrations, build_stores, parse_input


@contextmanager
def _stdout_to_stderr():
    """Send everything written to file descriptor 1 (Airflow's log handlers included) to stderr."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _last_on_stdout(code: int) -> int:
    """After the result: fd 1 goes to stderr for good, so whatever Airflow logs while the process
    exits (its in-process API's shutdown, atexit hooks) never follows the result on stdout."""
    sys.stdout.flush()
    os.dup2(2, 1)
    return code


def main(args: argparse.Namespace) -> int:
    from .substitutions import substitutions_for

    substitutions, issues = substitutions_for(args.definition, getattr(args, "substitutions", None))
    issues = issues + lint_path(args.definition, substitutions)
    if any(i.is_error for i in issues):
        return refuse_definition(args, issues)
    try:
        execution_input = parse_input(args.input, any_json=str(args.definition).lower().endswith(
            (".asl.json", ".asl.yaml", ".asl.yml")))
        if not isinstance(execution_input, dict):
            execution_input = {"$input": execution_input}  # a DAG run conf must be an object
        build_integrations(args.mocks)  # validates the file; the DAG loads it again in its tasks
        if args.store:
            build_stores(args.store)
    except UsageError as exc:
        return usage_error(args, exc)

    from ..providers.engine import UnmigratedDatabase, ensure_airflow_home, ensure_migrated, run_definition

    temporary_home = None
    try:
        with _stdout_to_stderr(), interrupted_by_signals():
            temporary_home = ensure_airflow_home()
            if temporary_home is None:
                ensure_migrated()
            result = run_definition(args.definition, execution_input, store_dir=args.store, mocks=args.mocks,
                                    substitutions=substitutions)
    except UnmigratedDatabase as exc:
        return refuse(args, [f"airflow-cloudflow run: {exc}"])
    except KeyboardInterrupt as exc:
        return _last_on_stdout(report_interrupted(exc, args.json))
    finally:
        if temporary_home is not None:
            shutil.rmtree(temporary_home, ignore_errors=True)
    print(f"(Airflow DAG {result.dag_id}, run {result.run_id})", file=sys.stderr)
    return _last_on_stdout(report(args, result.as_json(), dialect_for(args.definition)))
