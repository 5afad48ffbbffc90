"""Helpers shared by the early-stop tests of both dialects (tests/runtime, tests/asl)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from airflow_cloudflow.runtime import children, fanout
from airflow_cloudflow.runtime.asl import map as asl_map


@pytest.fixture
def ran(monkeypatch):
    """The indexes of the children that ran (``children.run_child`` calls from either dialect's
    fan-out), in start order."""
    started: list[int] = []
    lock = threading.Lock()
    real = children.run_child

    def counting(interp, state, child, **kwargs):
        with lock:
            started.append(child.index)
        return real(interp, state, child, **kwargs)

    for module in (fanout, asl_map):
        monkeypatch.setattr(module, "run_child", counting)
    return started


def marked(n: int, failing) -> list[dict]:
    return [{"k": i, "fail": "y" if failing(i) else "n"} for i in range(n)]


def write_csv(root: Path, rows: list[dict]) -> Path:
    (root / "bkt").mkdir(exist_ok=True)
    path = root / "bkt" / "items.csv"
    path.write_text("k,fail\n" + "".join(f"{r['k']},{r['fail']}\n" for r in rows), encoding="utf-8")
    return path
