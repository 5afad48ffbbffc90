"""The one-line DAG loader file that ``airflow-cloudflow init`` writes into a DAGs folder: its name,
its text, and which folders it owns (a folder holding its own loader belongs to that loader).
Shared by ``commands.init``, ``providers`` (the loader, the ``run`` engine) and sub-flow lookups."""

from __future__ import annotations

from pathlib import Path

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
