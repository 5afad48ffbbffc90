"""``airflow-cloudflow init DAGS_FOLDER``: write the one-line DAG loader into an Airflow DAGs folder.

Creates the folder when missing, writes ``cloudflow_dags.py``, leaves an identical file alone and
refuses (exit 1) to overwrite a different one. Imports no Airflow.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

LOADER_NAME = "cloudflow_dags.py"
LOADER_SOURCE = '''\
# Turns every *.flow.yaml / *.asl.json below this folder into an Airflow DAG (airflow-cloudflow).
# Settings without editing a flow: <name>.airflow.yaml beside it, cloudflow.defaults.yaml per folder.
from airflow_cloudflow.providers.loader import load_flows; load_flows(globals())  # noqa: E702
'''
"""The loader file's exact text (the mention of ``airflow`` and ``DAG`` words lets Airflow's
safe-mode heuristic, which looks for both strings, pick the file up)."""


def owned_by_nested_loader(path: Path, root: Path) -> bool:
    """True when a folder between ``root`` (excluded) and ``path`` holds its own loader file: such a
    subfolder belongs to that loader (e.g. the private copy ``run --engine airflow`` makes in a DAGs
    folder), so the outer loader and sub-flow lookups leave its definitions alone."""
    folder = path.parent
    while folder != root and root in folder.parents:
        if (folder / LOADER_NAME).is_file():
            return True
        folder = folder.parent
    return False


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
