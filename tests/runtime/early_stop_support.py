"""Helpers shared by the early-stop tests of both dialects (tests/runtime, tests/asl)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from airflow_cloudflow.runtime import fanout


@pytest.fixture
def ran(monkeypatch):
    """The indexes of the children that ran (``fanout.run_child`` calls), in start order."""
    started: list[int] = []
    lock = threading.Lock()
    real = fanout.run_child

    def counting(interp, state, child, **kwargs):
        with lock:
            started.append(child.index)
        return real(interp, state, child, **kwargs)

    monkeypatch.setattr(fanout, "run_child", counting)
    return started


def marked(n: int, failing) -> list[dict]:
    return [{"k": i, "fail": "y" if failing(i) else "n"} for i in range(n)]


def write_csv(root: Path, rows: list[dict]) -> Path:
    (root / "bkt").mkdir(exist_ok=True)
    path = root / "bkt" / "items.csv"
    path.write_text("k,fail\n" + "".join(f"{r['k']},{r['fail']}\n" for r in rows), encoding="utf-8")
    return path
