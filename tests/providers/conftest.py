"""Airflow for the provider tests: one temporary home per session, activated before airflow loads.

This file is imported when pytest collects ``tests/providers``, before any test module there, so
the environment below is in place when a test first imports ``airflow``. Rule for the rest of the
suite: no module outside ``tests/providers`` imports ``airflow`` (tests of the core must not load it).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.providers.airflow_env import AirflowHome, activate, create_home, migrate

HOME = create_home()
activate(HOME)


@pytest.fixture(scope="session", autouse=True)
def _remove_airflow_home() -> Iterator[None]:
    yield
    HOME.remove()


@pytest.fixture(scope="session")
def airflow_home() -> AirflowHome:
    """The session's Airflow home with a migrated metadata DB (``airflow db migrate`` runs once)."""
    seconds = migrate(HOME)
    print(f"airflow db migrate: {seconds:.1f} s")
    return HOME
