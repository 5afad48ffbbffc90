"""What both engines of ``airflow-cloudflow run`` build from its command line: the execution input,
the stores (``--store DIR`` or the environment), the integrations (``--mocks`` in front of the real
ones), and the exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EXIT_SUCCEEDED, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A problem with the command line (exit 2)."""


def parse_input(text: str, any_json: bool = False) -> Any:
    """``--input``: a JSON text, or ``@FILE``; "the execution input must be a JSON object" (an ASL
    machine, ``any_json``, takes any JSON value). UTF-8 standard JSON only (``jsonvalues.loads_strict``:
    no NaN/Infinity, no integer over 4,300 digits, nesting at most 200 deep)."""
    from ..jsonvalues import RejectedJson, loads_strict

    source = "--input"
    if text.startswith("@"):
        source = text[1:]
        try:
            text = Path(source).read_bytes().decode("utf-8-sig")
        except OSError as exc:
            raise UsageError(f"cannot read input file {source}: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise UsageError(f"input file {source} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    elif any("\udc80" <= c <= "\udcff" for c in text):  # bytes the locale could not decode
        raise UsageError("--input is not UTF-8 text")
    try:
        value = loads_strict(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source} is not valid JSON: {exc}") from None
    except RejectedJson as exc:
        raise UsageError(f"{source} is not standard JSON: {exc}") from None
    if not isinstance(value, dict) and not any_json:
        raise UsageError(f"{source} must be a JSON object, got {type(value).__name__}")
    return value


def build_integrations(mocks: str | None, stores=None):
    """The real integrations (OSS actions on ``stores``, i.e. ``--store DIR`` when given), with the
    ``--mocks`` fakes in front of them."""
    from ..integrations.mocks import load_mocks
    from ..integrations.catalogue import default_registry

    real = default_registry(stores=stores) if stores is not None else default_registry()
    if not mocks:
        return real
    try:
        return load_mocks(mocks, fallback=real)
    except OSError as exc:
        raise UsageError(f"cannot read mocks file {mocks}: {exc.strerror or exc}") from None
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        raise UsageError(f"invalid mocks file {mocks}: {exc}") from None


def build_stores(store: str | None):
    from ..exceptions import StoreError
    from ..storage.resolver import StoreResolver

    if store:
        if not Path(store).is_dir():
            raise UsageError(f"--store {store}: not a directory")
        return StoreResolver.local(store)
    try:
        return StoreResolver.from_environment()
    except (StoreError, ValueError) as exc:
        raise UsageError(f"cannot configure object storage from the environment: {exc}") from None
