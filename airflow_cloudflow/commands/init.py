"""``airflow-cloudflow init DAGS_FOLDER``: write the one-line DAG loader into an Airflow DAGs folder.

Creates the folder when missing, writes ``cloudflow_dags.py``, leaves an identical file alone and
refuses (exit 1) to overwrite a different one. Imports no Airflow.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ..loader_file import LOADER_NAME, LOADER_SOURCE


def write_loader(dags_folder: str | Path) -> tuple[int, str]:
    """Write the loader into ``dags_folder``: ``(exit code, message)``."""
    folder = Path(dags_folder)
    target = folder / LOADER_NAME
    if folder.exists() and not folder.is_dir():
        return 1, f"error: {folder} exists and is not a folder"
    if target.exists():
        try:
            current = target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return 1, f"error: cannot read {target}: {exc}"
        if current == LOADER_SOURCE:
            return 0, f"{target} is already up to date; nothing to do"
        return 1, f"error: {target} exists with different content; not overwriting it (move it away and rerun)"
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target.write_text(LOADER_SOURCE, encoding="utf-8")
    except OSError as exc:
        return 1, f"error: cannot write {target}: {exc}"
    prefix = f"created folder {folder}\n" if created else ""
    return 0, f"{prefix}wrote {target}: every *.flow.yaml below {folder} becomes a DAG"


def main(args: Any) -> int:
    """CLI entry: ``args.dags_folder`` (an argparse namespace) or a list ``[DAGS_FOLDER]``."""
    folder = args[0] if isinstance(args, (list, tuple)) else args.dags_folder
    code, message = write_loader(folder)
    print(message, file=sys.stderr if code else sys.stdout)
    return code
