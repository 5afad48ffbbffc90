"""The optional extras (``pip install 'airflow-cloudflow[<extra>]'``): whether one is installed and
the line that says what to install. The ASL linter (``ASL-E331``) and the readers both ask, so this
sits below both layers."""

from __future__ import annotations

PARQUET_HINT = "InputType PARQUET needs pyarrow: pip install 'airflow-cloudflow[parquet]'"


def parquet_available() -> bool:
    """True when pyarrow can be imported (the ``parquet`` extra is installed)."""
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return False
    return True


__all__ = ["PARQUET_HINT", "parquet_available"]
