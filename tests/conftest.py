"""Suite-wide fixtures: where the shared specs and conformance cases live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _shared_dir() -> Path:
    env = os.environ.get("CLOUDFLOW_SHARED")
    candidates = [Path(env)] if env else []
    candidates += [REPO_ROOT.parent / "shared", REPO_ROOT / "shared"]
    for candidate in candidates:
        if (candidate / "conformance").is_dir():
            return candidate
    raise RuntimeError(
        "cannot find ../shared (the specs and conformance cases); set CLOUDFLOW_SHARED to its path"
    )


SHARED_DIR = _shared_dir()
CLOUDFLOW_CASES_DIR = SHARED_DIR / "conformance" / "cloudflow"
ASL_CASES_DIR = SHARED_DIR / "conformance" / "asl"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return SHARED_DIR
