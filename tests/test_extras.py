"""``extras``: which optional extras are installed, and the line saying what to install."""

from __future__ import annotations

import builtins

from airflow_cloudflow import extras


def test_parquet_is_available_exactly_when_pyarrow_imports(monkeypatch):
    try:
        import pyarrow.parquet  # noqa: F401
        installed = True
    except ImportError:
        installed = False
    assert extras.parquet_available() is installed

    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name.startswith("pyarrow"):
            raise ImportError("No module named 'pyarrow'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    assert extras.parquet_available() is False


def test_the_parquet_hint_names_the_extra_to_install():
    assert "pip install 'airflow-cloudflow[parquet]'" in extras.PARQUET_HINT
