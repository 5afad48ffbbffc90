"""Run-time values of ASL number fields written as literals, ``*Path`` or JSONata
(``MaxConcurrency``, ``MaxItems``, ``ToleratedFailure*``, ``MaxItemsPerBatch``, ``MaxInputBytesPerBatch``,
``TimeoutSeconds``, ``Seconds``).

Recorded AWS behaviour (asl-distributed-map.md §2.2, §2.5, §2.7): "A ``*Path`` that resolves to a
numeric **string** is accepted"; otherwise ``States.Runtime`` "The MaxConcurrencyPath field refers
to value "NoNumber" which is not a valid integer: $.X" (``valid float`` for the percentage);
"ToleratedFailureCount cannot be negative."; "ToleratedFailurePercentage must be between 0 and
100.". These are raised before any Map Run starts.
"""

from __future__ import annotations

import json
from typing import Any

from airflow_cloudflow.exceptions import FlowError
from airflow_cloudflow.model import DynamicValue
from airflow_cloudflow.runtime.evaluation import evaluate

RUNTIME = "States.Runtime"


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _as_number(value: Any, integer: bool) -> float | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = int(value.strip()) if integer else float(value.strip())
        except ValueError:
            return None
    if isinstance(value, float) and integer:
        return None
    if isinstance(value, (int, float)):
        return value
    return None


def resolve(dynamic: DynamicValue | None, variables: dict[str, Any], *, integer: bool = True) -> Any:
    """The number ``dynamic`` stands for (None when the field is absent)."""
    if dynamic is None:
        return None
    raw = evaluate(dynamic.template, variables)
    number = _as_number(raw, integer)
    if number is None:
        if dynamic.kind == "path":
            kind = "integer" if integer else "float"
            raise FlowError(RUNTIME, f"The {dynamic.field} field refers to value \"{_shown(raw)}\" which is not a "
                                     f"valid {kind}: {dynamic.template.source}")  # type: ignore[union-attr]
        if dynamic.kind == "jsonata":
            expected = "integer" if integer else "number"
            raise FlowError("States.QueryEvaluationError",
                            f"The JSONata expression '{dynamic.template.source}' specified for the field "  # type: ignore[union-attr]
                            f"'{dynamic.field}' returned an unexpected result type. Expected '{expected}', but was "
                            f"'{type(raw).__name__}' for value: {_shown(raw)}")
        raise FlowError(RUNTIME, f"{dynamic.field} must be a number, got {_shown(raw)}")
    return number


def tolerated_count(dynamic: DynamicValue | None, variables: dict[str, Any]) -> int | None:
    value = resolve(dynamic, variables)
    if value is not None and value < 0:
        raise FlowError(RUNTIME, "ToleratedFailureCount cannot be negative.")
    return value


def tolerated_percentage(dynamic: DynamicValue | None, variables: dict[str, Any]) -> float | None:
    value = resolve(dynamic, variables, integer=False)
    if value is not None and not 0 <= value <= 100:
        raise FlowError(RUNTIME, "ToleratedFailurePercentage must be between 0 and 100.")
    return value


def max_concurrency(dynamic: DynamicValue | None, variables: dict[str, Any]) -> int | None:
    """``MaxConcurrency``: 0 or absent = unlimited. A negative value made AWS hang
    [REC imap_max_concurrency_path_negative]; here it fails at once (docs/asl.md)."""
    value = resolve(dynamic, variables)
    if value is not None and value < 0:
        raise FlowError(RUNTIME, f"{dynamic.field} must not be negative, got {value}")  # type: ignore[union-attr]
    return value or None


def positive_or_none(dynamic: DynamicValue | None, variables: dict[str, Any]) -> int | None:
    """ItemBatcher limits: a positive integer (0/absent: no limit)."""
    value = resolve(dynamic, variables)
    if value is not None and value < 0:
        raise FlowError(RUNTIME, f"{dynamic.field} must be a positive integer, got {value}")  # type: ignore[union-attr]
    return value or None
