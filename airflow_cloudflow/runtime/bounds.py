"""The bounds every execution runs within, in one place: name, value, error code, setting.

AWS bounds a Standard workflow's history at 25,000 events and an error's Cause at 32,768
characters (asl-distributed-map §8); CloudFlow's own quota is 5,000 history events per execution
(cloudflow-language, per-execution limits). Without equivalent bounds a Pass whose ``Next`` is
itself never ends, a flow calling itself from an inline Map spawns threads exponentially, and a
chain of ``startExecution.sync`` re-escapes its child's Cause until it is gigabytes long.
docs/limits.md lists them; each setting is an environment variable read when the bound is used.

A runaway bound is never retried nor caught (``errors.matches``): a Catch that sent the run on would
only hit it again.
"""

from __future__ import annotations

import contextvars
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from ..exceptions import MAX_ERROR_TEXT, FlowError, cap_error_text


@dataclass(frozen=True)
class Bound:
    """One bound: its ``name``, ``default`` value, the environment variable that changes it, and the
    error code it fails with per dialect (CloudFlow, ASL)."""

    name: str
    default: int
    setting: str
    cloudflow_code: str
    asl_code: str

    @property
    def value(self) -> int:
        """The bound in force: ``setting`` when set to a positive integer, else ``default``."""
        raw = os.environ.get(self.setting, "").strip()
        if raw.isdigit() and int(raw) > 0:
            return int(raw)
        return self.default

    def code(self, dialect: str) -> str:
        return self.asl_code if dialect in ("asl", "states") else self.cloudflow_code

    def error(self, dialect: str, detail: str, state: str | None = None) -> FlowError:
        return FlowError(self.code(dialect), f"{self.name} ({self.value}) exceeded: {detail}", state=state)


ASL_RUNTIME = "States.Runtime"  # AWS fails an execution past its quotas with States.Runtime

STATE_TRANSITIONS = Bound("state transitions per execution", 25_000, "CLOUDFLOW_MAX_STATE_TRANSITIONS",
                          "FnF.StateTransitionLimitExceeded", ASL_RUNTIME)
"""States entered by one execution (inline Map iterations and Parallel branches included; a
distributed Map child is an execution of its own): AWS's 25,000 history events for Standard."""

SUBFLOW_DEPTH = Bound("sub-flow nesting depth", 16, "CLOUDFLOW_MAX_SUBFLOW_DEPTH",
                      "FnF.SubflowDepthExceeded", ASL_RUNTIME)
"""Sub-flows started in-process, one inside another (``FNF:StartExecution``, ``startExecution``)."""

THREADS = Bound("worker threads per process", 256, "CLOUDFLOW_MAX_THREADS", "", "")
"""Threads running Parallel branches, Map iterations and children at once, whatever MaxConcurrency
says; work beyond it queues (never an error)."""

RUNAWAY_CODES = frozenset({STATE_TRANSITIONS.cloudflow_code, SUBFLOW_DEPTH.cloudflow_code})
"""CloudFlow codes of the runaway bounds: never retried nor caught (ASL's States.Runtime already is)."""

__all__ = ["MAX_ERROR_TEXT", "RUNAWAY_CODES", "STATE_TRANSITIONS", "SUBFLOW_DEPTH", "THREADS", "THREAD_BUDGET",
           "cap_error_text", "subflow_level"]
"""``MAX_ERROR_TEXT`` (32,768, AWS's Cause limit) and ``cap_error_text`` live in ``exceptions`` so every
``FlowError``/``ErrorInfo`` is capped where it is made; they are listed here with the other bounds."""


# ---------------------------------------------------------------------- sub-flow depth

_DEPTH: contextvars.ContextVar[int] = contextvars.ContextVar("cloudflow_subflow_depth", default=0)


@contextmanager
def subflow_level(dialect: str, flow_name: str, state: str | None = None) -> Iterator[int]:
    """Enter one sub-flow level; raises the ``SUBFLOW_DEPTH`` error past the bound. The depth is a
    context variable, so worker threads see their parent's (``run_bounded`` copies the context)."""
    depth = _DEPTH.get() + 1
    if depth > SUBFLOW_DEPTH.value:
        raise SUBFLOW_DEPTH.error(dialect, f"starting flow {flow_name!r} at depth {depth}", state)
    token = _DEPTH.set(depth)
    try:
        yield depth
    finally:
        _DEPTH.reset(token)


# ---------------------------------------------------------------------- threads

class ThreadBudget:
    """Worker threads the process may still start. ``take(n)`` never blocks: it grants what is left
    (maybe 0), so nested pools degrade to running in their caller's thread instead of deadlocking."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_use = 0

    @property
    def in_use(self) -> int:
        return self._in_use

    def take(self, wanted: int) -> int:
        with self._lock:
            granted = max(0, min(wanted, THREADS.value - self._in_use))
            self._in_use += granted
            return granted

    def give_back(self, count: int) -> None:
        with self._lock:
            self._in_use -= count


THREAD_BUDGET = ThreadBudget()
