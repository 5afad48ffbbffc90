"""Airflow-native extensions (off the cloud spec): ``Python:Call`` here, ``Airflow:Operator`` in
``providers/integrations.py``.

``Action: Python:Call`` with Parameters ``{callable: "pkg.mod.func", kwargs: {...}}`` calls the
function and its (JSON) return value is ``$Output``. Only modules under a prefix listed in
``[cloudflow] allowed_modules`` (outside Airflow: ``AIRFLOW__CLOUDFLOW__ALLOWED_MODULES``,
comma-separated) may be imported, so a dropped definition cannot import arbitrary code; the check
happens before any import, names beginning with ``_`` are refused, and nothing is ``eval``-ed.

Errors: ``Extension.NotAllowed`` (path outside the allow-list), ``Extension.NotFound`` (module or
attribute missing), ``Python.<ExceptionClass>`` (the callable raised; Detail its message),
``Extension.ResultNotJson`` (the return value is not JSON).
"""

from __future__ import annotations

import importlib
import json
import os
import re
from dataclasses import dataclass
from typing import Any

from ..exceptions import FlowError
from ..runtime.ports import TaskCall

ALLOWED_ENV = "AIRFLOW__CLOUDFLOW__ALLOWED_MODULES"
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


def allowed_from_environment() -> tuple[str, ...]:
    return tuple(p.strip() for p in os.environ.get(ALLOWED_ENV, "").split(",") if p.strip())


def check_allowed(path: Any, allowed: tuple[str, ...], what: str) -> tuple[str, str]:
    """``"pkg.mod.name"`` → (``pkg.mod``, ``name``) when ``pkg.mod`` is under an allowed prefix."""
    if not isinstance(path, str) or not _DOTTED.match(path):
        raise FlowError("Extension.NotAllowed", f"{what} must be a dotted path like 'pkg.module.name', got {path!r}")
    module, _, name = path.rpartition(".")
    if any(part.startswith("_") for part in path.split(".")[1:]):
        raise FlowError("Extension.NotAllowed", f"{what} {path!r}: private names cannot be called")
    if not _under(module, allowed):
        listed = ", ".join(allowed) or "nothing"
        raise FlowError("Extension.NotAllowed", f"{what} {path!r} is not under [cloudflow] allowed_modules "
                        f"(allowed: {listed}; outside Airflow set {ALLOWED_ENV})")
    return module, name


def load_attribute(path: str, allowed: tuple[str, ...], what: str) -> Any:
    module_name, name = check_allowed(path, allowed, what)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise FlowError("Extension.NotFound", f"{what} {path!r}: cannot import {module_name!r} ({exc})") from None
    try:
        target = getattr(module, name)
    except AttributeError:
        raise FlowError("Extension.NotFound", f"{what} {path!r}: {module_name!r} has no {name!r}") from None
    defined_in = getattr(target, "__module__", None)
    if not isinstance(defined_in, str) or not _under(defined_in, allowed):
        # e.g. ``from subprocess import run`` inside an allowed module: the path is allowed, the code is not
        raise FlowError("Extension.NotAllowed", f"{what} {path!r} is defined in {defined_in!r}, which is not under "
                        "[cloudflow] allowed_modules (a name merely imported into an allowed module is refused)")
    return target


def _under(module: str, allowed: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in allowed)


def json_result(value: Any, what: str) -> Any:
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as exc:
        raise FlowError("Extension.ResultNotJson", f"{what} returned a value that is not JSON: {exc}") from None


@dataclass(frozen=True)
class PythonCall:
    """The ``Python:Call`` runner. ``allowed``: None reads the environment at call time."""

    allowed: tuple[str, ...] | None = None

    def __call__(self, call: TaskCall) -> Any:
        params = call.parameters if isinstance(call.parameters, dict) else {}
        allowed = self.allowed if self.allowed is not None else allowed_from_environment()
        path = params.get("callable")
        target = load_attribute(path, allowed, "callable")
        if not callable(target):
            raise FlowError("Extension.NotFound", f"callable {path!r} is not callable")
        kwargs = params.get("kwargs") or {}
        if not isinstance(kwargs, dict):
            raise FlowError("Extension.NotAllowed", "kwargs must be an object")
        if call.task_token:
            kwargs = {**kwargs, "task_token": call.task_token}
        try:
            value = target(**kwargs)
        except FlowError:
            raise
        except Exception as exc:  # the user's code failed: its class name is the error code
            raise FlowError(f"Python.{type(exc).__name__}", str(exc)[:1000], state=call.state_name or None) from None
        return json_result(value, f"callable {path!r}")
