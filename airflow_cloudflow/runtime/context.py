"""Execution-level state: the execution's name and input, ``$Global``, the clock and the deadline.

"``$Context`` and ``$Global`` live for the whole execution" (cloudflow-language §2.5). A
distributed Map child is an execution of its own: "Child executions cannot see the parent's
``$Global``", and its ``$Context.Execution`` is the child's name and input.
"""

from __future__ import annotations

import itertools
import re
import threading
import uuid
from datetime import datetime, timedelta
from typing import Any

from ..exceptions import ErrorCodes, FlowError
from .bounds import STATE_TRANSITIONS
from .clock import Clock

_GLOBALS_LOCK = threading.Lock()  # GlobalConstructors are rare: one lock serves every execution
_NAME_OK = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,127}$")


def new_execution_name() -> str:
    """A fresh execution name (``[A-Za-z0-9_-]``, starting with a letter or ``_``)."""
    return "exec-" + uuid.uuid4().hex


def new_map_run_name() -> str:
    """A MapRun name: "a 32-hex-char id, e.g. ``c39142f1345b196d678333c41f113200``"."""
    return uuid.uuid4().hex


def child_execution_name(map_run_name: str, index: int) -> str:
    """Child ``index`` of a MapRun: ``child-<map-run>-<index>`` (unique within the flow; the prefix
    keeps it a valid execution name, which may not start with a digit)."""
    return f"child-{map_run_name}-{index}"


def valid_execution_name(name: str) -> bool:
    """"``[A-Za-z0-9_-]``, first character a letter or ``_``, 1–128 characters"."""
    return bool(_NAME_OK.match(name))


class ExecutionContext:
    """Mutable per-execution state shared by every state of one execution (not by its children).

    ``globals`` is replaced (never mutated) by each GlobalConstructor, so a value handed out
    earlier keeps showing "the value before". ``deadline`` comes from the flow-level ``Timeout``.
    """

    __slots__ = ("name", "input", "started", "clock", "globals", "deadline", "flow_name", "_execution",
                 "events", "asl_execution", "redrive_count", "transitions", "max_transitions")

    def __init__(
        self,
        name: str,
        input: Any,
        *,
        clock: Clock,
        flow_name: str = "",
        timeout_seconds: float | None = None,
        deadline: datetime | None = None,
        max_transitions: int | None = None,
    ):
        self.name = name
        self.input = input
        self.clock = clock
        self.started = clock.now()
        self.flow_name = flow_name
        self.globals: dict[str, Any] = {}
        if timeout_seconds:
            deadline = self.started + timedelta(seconds=timeout_seconds)
        self.deadline = deadline
        self._execution: dict[str, Any] | None = None
        self.events: Any = None  # ASL history event ids (an itertools.count shared by the execution)
        self.asl_execution: dict[str, Any] | None = None  # ASL $$.Execution (built on first use)
        self.redrive_count = 0  # times this execution was redriven (Airflow: the DAG run's clear number)
        self.transitions = itertools.count(1)  # states entered so far (runtime/bounds.py: STATE_TRANSITIONS)
        # read once per top-level execution: a child execution gets its parent's (no setting lookup per child)
        self.max_transitions = STATE_TRANSITIONS.value if max_transitions is None else max_transitions

    @property
    def execution(self) -> dict[str, Any]:
        """``$Context.Execution``: ``{"Name", "Input", "StartTime"}`` (built on first use)."""
        if self._execution is None:
            self._execution = {"Name": self.name, "Input": self.input, "StartTime": self.started.isoformat()}
        return self._execution

    def merge_globals(self, values: Any) -> None:
        """"Globals are merged into the execution-level map" (later keys win)."""
        if not isinstance(values, dict):
            raise FlowError(ErrorCodes.RUNTIME, "GlobalConstructor must build a JSON object")
        with _GLOBALS_LOCK:
            self.globals = {**self.globals, **values}

    def check_deadline(self) -> None:
        """Raise ``FnF.Timeout`` once the flow-level ``Timeout`` has passed."""
        if self.deadline is not None and self.clock.now() >= self.deadline:
            raise FlowError(ErrorCodes.TIMEOUT, "the execution exceeded its Timeout")

    def enter_state(self, state_name: str, dialect: str) -> None:
        """Count one state entered; past ``STATE_TRANSITIONS`` the execution fails (a runaway loop)."""
        if next(self.transitions) > self.max_transitions:
            raise STATE_TRANSITIONS.error(dialect, f"entering state {state_name!r}", state_name)

    def seconds_left(self) -> float | None:
        if self.deadline is None:
            return None
        return (self.deadline - self.clock.now()).total_seconds()

    def current(self, state_name: str, input: Any, retry_count: int = 0, **extra: Any) -> dict[str, Any]:
        """The ``$Context`` object for a state: ``{"Execution": …, "Current": {…}}``."""
        current = {"Name": state_name, "Input": input, "RetryCount": retry_count}
        current.update(extra)
        return {"Execution": self.execution, "Current": current}
