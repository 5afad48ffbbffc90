"""What runs produce: one state's ``StepResult``; child executions, the unit of accounting
everywhere (results, logs, counters), batched or not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

SUCCEEDED = "Succeeded"
FAILED = "Failed"


class StepResult(NamedTuple):
    """One state's outcome: its output and the next state in its scope (None ends the scope).
    (An immutable named tuple: it is built once per state on the hot path.)"""

    output: Any
    next: str | None


@dataclass(frozen=True)
class ChildExecution:
    """One child execution of a distributed Map (one item, or one batch).

    ``index`` is the child's 0-based position in the Map Run; ``first_item``/``item_count`` say
    which items it covered. ``output`` is set when it succeeded, ``error_code``/``error_detail``
    when it failed. Times are timezone-aware UTC.
    """

    name: str
    index: int
    status: str
    input: Any
    output: Any = None
    error_code: str | None = None
    error_detail: str | None = None
    started: datetime | None = None
    stopped: datetime | None = None
    first_item: int = 0
    item_count: int = 1
    redrive_count: int = 0  # how often this child was redriven (``--redrive``); 0: the first run

    @classmethod
    def make(
        cls,
        name: str,
        index: int,
        status: str,
        input: Any,
        output: Any,
        error_code: str | None,
        error_detail: str | None,
        started: datetime | None,
        stopped: datetime | None,
        first_item: int = 0,
        item_count: int = 1,
    ) -> "ChildExecution":
        """The same as the constructor, without the frozen dataclass's per-field ``__setattr__``
        (one record is built per child on the fan-out hot path)."""
        record = object.__new__(cls)
        record.__dict__.update(
            name=name, index=index, status=status, input=input, output=output, error_code=error_code,
            error_detail=error_detail, started=started, stopped=stopped, first_item=first_item,
            item_count=item_count,
        )
        return record

    @property
    def succeeded(self) -> bool:
        return self.status == SUCCEEDED

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict (times as RFC 3339 strings); ``from_json`` reverses it."""
        return {
            "name": self.name,
            "index": self.index,
            "status": self.status,
            "input": self.input,
            "output": self.output,
            "error_code": self.error_code,
            "error_detail": self.error_detail,
            "started": self.started.isoformat() if self.started else None,
            "stopped": self.stopped.isoformat() if self.stopped else None,
            "first_item": self.first_item,
            "item_count": self.item_count,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ChildExecution":
        started, stopped = data.get("started"), data.get("stopped")
        return cls.make(
            data["name"], data["index"], data["status"], data.get("input"), data.get("output"),
            data.get("error_code"), data.get("error_detail"),
            datetime.fromisoformat(started) if started else None,
            datetime.fromisoformat(stopped) if stopped else None,
            data.get("first_item", 0), data.get("item_count", 1),
        )
