"""``airflow-cloudflow schema flow|asl|sidecar``: print an editor JSON Schema, generated from the
validator's tables (``airflow_cloudflow.editor_schemas``). Imports no Airflow."""

from __future__ import annotations

import sys
from typing import Any

from ..editor_schemas import KINDS, render


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("schema", help="print the JSON Schema of flows, ASL machines or sidecars (for editors)")
    parser.add_argument("kind", choices=list(KINDS),
                        help="flow: *.flow.yaml; asl: *.asl.json / *.asl.yaml; sidecar: *.airflow.yaml")


def main(args: Any) -> int:
    sys.stdout.write(render(args.kind))
    return 0
