"""One error hierarchy for the whole package (no Airflow import).

* ``DefinitionError``  a definition failed validation; carries *all* the issues found.
* ``ExpressionSyntaxError``  an expression could not be parsed; carries the position inside it.
* ``FlowError``  a runtime error with the spec's error name (``code``), so Retry and Catch match
  names, never exception types ("the first rule whose ``Errors`` contains the error").
* ``StoreError``  object storage failed (missing bucket/object, access denied, transient faults).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .diagnostics import Issue


MAX_ERROR_TEXT = 32_768
"""Characters of an error's Cause/Detail kept (AWS: "Cause … maximum length of 32768"): every
``FlowError`` and ``ErrorInfo`` is capped when made, so an error crossing a boundary (a sub-flow
re-escaping its child's Cause, the CLI, XCom) never grows without bound (docs/limits.md)."""

_TRUNCATED = "… [truncated]"


def cap_error_text(text: str | None) -> str | None:
    """``text`` cut to ``MAX_ERROR_TEXT`` characters (the cut marked), or ``text`` itself."""
    if not isinstance(text, str) or len(text) <= MAX_ERROR_TEXT:
        return text
    return text[: MAX_ERROR_TEXT - len(_TRUNCATED)] + _TRUNCATED


class ErrorCodes:
    """Runtime error names that the specs leave to the implementation (see docs/errors.md)."""

    RUNTIME = "FnF.RuntimeError"  # an expression or value could not be evaluated / has the wrong type
    TASK_TIMEOUT = "FnF.TaskTimeout"  # a Task exceeded its Timeout
    TIMEOUT = "FnF.Timeout"  # the execution exceeded the flow-level Timeout
    ITEM_READER_FAILED = "FnF.ItemReaderFailed"  # a distributed Map's ItemReader could not read
    RESULT_WRITER_FAILED = "FnF.ResultWriterFailed"  # a ResultWriter could not write
    TOLERANCE_EXCEEDED = "FnF.ExceedToleratedFailureThreshold"  # more failed children than tolerated
    ACTION_NOT_SUPPORTED = "FnF.ActionNotSupported"  # no integration for a Task's Action
    TASK_FAILED = "FnF.TaskFailed"  # an integration raised without a more specific code


class CloudFlowError(Exception):
    """Base class of every error this package raises on purpose."""


class DefinitionError(CloudFlowError):
    """A definition is invalid; ``issues`` holds every problem found, not only the first."""

    def __init__(self, issues: "list[Issue]", file: str | None = None):
        self.issues = list(issues)
        self.file = file
        errors = [i for i in self.issues if i.severity == "error"] or self.issues
        head = "; ".join(str(i) for i in errors[:3])
        more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
        super().__init__(f"invalid definition: {head}{more}")


class ExpressionSyntaxError(CloudFlowError):
    """An expression failed to parse. ``position`` is the 0-based offset inside ``expression``."""

    def __init__(self, message: str, expression: str, position: int):
        self.message = message
        self.expression = expression
        self.position = position
        super().__init__(f"{message} at position {position} in expression {expression!r}")


class FlowError(CloudFlowError):
    """A runtime error carrying the spec's error name (``code``) and a human ``detail``.

    ``code``/``detail`` are what ``$Context.Current.Error.Code``/``.Detail`` show, and what the CLI
    prints as ``{"Code": …, "Detail": …}``.
    """

    def __init__(self, code: str, detail: str | None = None, *, state: str | None = None):
        self.code = code
        self.detail = detail = cap_error_text(detail)
        self.state = state
        super().__init__(f"{code}: {detail}" if detail else code)

    def as_dict(self) -> dict[str, Any]:
        return {"Code": self.code, "Detail": self.detail}


class StoreError(CloudFlowError):
    """Object storage failed. ``retriable`` is True only for transient faults (5xx, resets,
    throttling); missing buckets/objects and denied access are final."""

    def __init__(self, message: str, *, url: str | None = None, retriable: bool = False):
        self.url = url
        self.retriable = retriable
        super().__init__(f"{message} ({url})" if url else message)


class NoSuchBucket(StoreError):
    """The bucket does not exist."""


class NoSuchObject(StoreError):
    """The object does not exist."""


class AccessDenied(StoreError):
    """The credentials may not do this."""


@dataclass(frozen=True)
class ErrorInfo:
    """A plain record of a failure, as stored in child-execution records and XCom."""

    code: str
    detail: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.detail, str) and len(self.detail) > MAX_ERROR_TEXT:
            object.__setattr__(self, "detail", cap_error_text(self.detail))

    def as_dict(self) -> dict[str, Any]:
        return {"Code": self.code, "Detail": self.detail}
