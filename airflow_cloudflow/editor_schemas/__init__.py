"""JSON Schemas for editors, generated from the validator's own tables (one source of truth):
``flow`` (``*.flow.yaml``), ``asl`` (``*.asl.json`` / ``*.asl.yaml``) and ``sidecar``
(``*.airflow.yaml``, ``cloudflow.defaults.yaml``).

The package also ships them as ``<kind>.schema.json`` files (a test keeps the files equal to what
``generate`` returns; ``python -m airflow_cloudflow.editor_schemas`` rewrites them).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

KINDS = {"flow": "cloudflow", "asl": "asl", "sidecar": "sidecar"}
"""Schema kind → the module that generates it."""

FOLDER = Path(__file__).parent


def generate(kind: str) -> dict[str, Any]:
    """The schema of ``kind`` (one of ``KINDS``)."""
    if kind not in KINDS:
        raise KeyError(f"unknown schema {kind!r} (one of {', '.join(KINDS)})")
    return importlib.import_module(f"{__name__}.{KINDS[kind]}").generate()


def render(kind: str) -> str:
    """The schema as the text printed and shipped (stable key order, trailing newline)."""
    return json.dumps(generate(kind), indent=2, ensure_ascii=False) + "\n"


def shipped_path(kind: str) -> Path:
    """The schema file inside the installed package."""
    return FOLDER / f"{kind}.schema.json"


def write_all() -> list[Path]:
    """Rewrite every shipped schema file."""
    paths = []
    for kind in KINDS:
        path = shipped_path(kind)
        path.write_text(render(kind), encoding="utf-8")
        paths.append(path)
    return paths

