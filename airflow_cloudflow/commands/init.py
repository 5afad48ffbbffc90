"""``airflow-cloudflow init DAGS_FOLDER [--examples]``: write the one-line DAG loader into an Airflow
DAGs folder, and with ``--examples`` the example definitions beside it.

Creates the folder when missing, writes ``cloudflow_dags.py``, leaves an identical file alone and
refuses (exit 1) to overwrite a different one. ``--examples`` copies the shipped examples (the
package's ``examples/`` folder: ``dags/examples`` of the checkout) into ``DAGS_FOLDER/examples``
with their sidecars and their local object store (``store/``), so every example runs at once
without a cloud account; files that already exist there are left alone. Imports no Airflow.
"""

from __future__ import annotations

import shutil
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
    return 0, (f"{prefix}wrote {target}: every *.flow.yaml, *.asl.json and *.asl.yaml below {folder} becomes a DAG\n"
               "(the dag-processor picks new files up at its next folder listing, by default within 5 minutes; "
               "`airflow dags reserialize` does it now)")


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
"""The shipped examples (in a checkout, a link to ``dags/examples``)."""
SKIPPED_PARTS = ("results", "__pycache__")
"""What a run of the examples writes into their store: never copied."""


def write_examples(dags_folder: str | Path) -> tuple[int, str]:
    """Copy the examples into ``dags_folder/examples``: ``(exit code, message)``."""
    if not EXAMPLES.is_dir():
        return 1, f"error: the examples are not installed with this package ({EXAMPLES} is missing)"
    target = Path(dags_folder) / "examples"
    copied, kept = 0, 0
    try:
        for source in sorted(EXAMPLES.rglob("*")):
            relative = source.relative_to(EXAMPLES)
            if not source.is_file() or any(part in SKIPPED_PARTS for part in relative.parts):
                continue
            destination = target / relative
            if destination.exists():
                kept += 1
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
            copied += 1
    except OSError as exc:
        return 1, f"error: cannot copy the examples into {target}: {exc}"
    note = f" ({kept} existing file(s) left as they were)" if kept else ""
    return 0, (f"copied {copied} example file(s) into {target}{note}; their objects are files under "
               f"{target / 'store'} (local_store in each sidecar)")


def main(args: Any) -> int:
    """CLI entry: an argparse namespace (``dags_folder``, ``examples``) or a list ``[DAGS_FOLDER]``."""
    if isinstance(args, (list, tuple)):
        folder, examples = args[0], False
    else:
        folder, examples = args.dags_folder, getattr(args, "examples", False)
    code, message = write_loader(folder)
    print(message, file=sys.stderr if code else sys.stdout)
    if code == 0 and examples:
        code, message = write_examples(folder)
        print(message, file=sys.stderr if code else sys.stdout)
    return code
