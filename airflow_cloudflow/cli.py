"""The ``airflow-cloudflow`` console script: ``lint | run | render | init | callback | schema``.

The argument contract is stable (external acceptance checks rely on it); each command's work lives
in ``airflow_cloudflow.commands.<name>`` and is imported only when that command runs, so ``lint``
never imports Airflow.
"""

from __future__ import annotations

import argparse
import importlib
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="airflow-cloudflow",
        description="Lint and run CloudFlow flows and Step Functions state machines, on their own or through Airflow.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    lint = sub.add_parser("lint", help="check definitions; prints path:line:col: CODE message")
    lint.add_argument("paths", nargs="+", metavar="PATH", help="definition files or folders (searched recursively)")

    run = sub.add_parser("run", help="execute a definition with an input")
    run.add_argument("definition", metavar="DEFINITION")
    run.add_argument("--input", default="{}", help="the execution input: a JSON text, or @FILE")
    run.add_argument("--mocks", metavar="FILE", help="JSON file mapping Task resources to fake behaviours")
    run.add_argument("--store", metavar="DIR", help="use local directory DIR as object storage (DIR/bucket/key)")
    run.add_argument("--engine", choices=("interpreter", "airflow"), default="interpreter")
    run.add_argument("--json", action="store_true", help="print one JSON result object on the last line")
    run.add_argument("--redrive", metavar="MANIFEST",
                     help="oss://|s3://bucket/key of an earlier Map Run's manifest.json: re-run only its children "
                          "without a successful record and rewrite its results (interpreter engine)")

    render = sub.add_parser("render", help="show the Airflow plan compiled from a definition")
    render.add_argument("definition", metavar="DEFINITION")

    from .commands.substitutions import add_option as add_substitutions_option

    for command in (lint, run, render):
        add_substitutions_option(command)

    init = sub.add_parser("init", help="write the one-line DAG loader into an Airflow DAGs folder")
    init.add_argument("dags_folder", metavar="DAGS_FOLDER")
    init.add_argument("--examples", action="store_true",
                      help="also copy the example definitions, sidecars and their local object store into "
                           "DAGS_FOLDER/examples")

    from .commands.callback import add_parser as add_callback_parser
    from .commands.schema import add_parser as add_schema_parser

    add_callback_parser(sub)
    add_schema_parser(sub)
    return parser


INTERNAL_ERROR = "CloudFlow.InternalError"
"""The backstop's code: an exception no layer turned into a coded error (a bug: please report it)."""


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module = importlib.import_module(f"airflow_cloudflow.commands.{args.command}")
    try:
        return int(module.main(args) or 0)
    except Exception as exc:  # noqa: BLE001 - the backstop: never a traceback, always the contract
        return _internal_error(args, exc)


def _internal_error(args: argparse.Namespace, exc: Exception) -> int:
    """Exit 1 with a one-line message (and the ``--json`` object), not a traceback. Causes are fixed
    where they arise; this only keeps the command-line contract when one was missed."""
    import json

    from .exceptions import cap_error_text

    detail = cap_error_text(f"{type(exc).__name__}: {exc}")
    print(f"airflow-cloudflow {args.command}: internal error {INTERNAL_ERROR}: {detail}", file=sys.stderr)
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps({"status": "Failed", "output": None,
                                     "error": {"Code": INTERNAL_ERROR, "Detail": detail}}) + "\n")
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
