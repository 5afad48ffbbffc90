"""Fake functions for runs and tests, keyed by the Task's resource (FC ``resourceArn``).

Behaviours, exactly as the conformance README defines them:

* ``identity``: "Returns the invocation body unchanged … With no ``body``, it returns null."
* ``constant`` (``value``): "Returns ``value`` and ignores the body."
* ``fail`` (``code``, ``detail``): "Every invocation fails … with error code ``code`` and detail ``detail``."
* ``fail_first_n`` (``n``, ``code``, ``detail``): "The first ``n`` invocations of this ARN in one
  execution fail exactly like ``fail`` … Every later invocation behaves like ``identity``."

"A Task with no OutputConstructor outputs ``$Output``, which is ``{"Body": <function return value>}``"
for ``FC:InvokeFunction``; other actions return the value itself.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..exceptions import ErrorCodes, FlowError
from .registry import IntegrationRegistry, TaskCall, default_registry

BEHAVIOURS = ("identity", "constant", "fail", "fail_first_n")
FC_INVOKE = "FC:InvokeFunction"


@dataclass(frozen=True)
class Behaviour:
    """One fake: ``kind`` is one of BEHAVIOURS."""

    kind: str
    value: Any = None
    code: str = ErrorCodes.TASK_FAILED
    detail: str | None = None
    n: int = 0

    @classmethod
    def from_json(cls, resource: str, spec: Any) -> "Behaviour":
        if not isinstance(spec, dict) or spec.get("behaviour") not in BEHAVIOURS:
            raise ValueError(f"mock for {resource!r}: 'behaviour' must be one of {', '.join(BEHAVIOURS)}")
        kind = spec["behaviour"]
        if kind == "constant" and "value" not in spec:
            raise ValueError(f"mock for {resource!r}: 'constant' needs 'value'")
        if kind in ("fail", "fail_first_n") and not isinstance(spec.get("code"), str):
            raise ValueError(f"mock for {resource!r}: {kind!r} needs a string 'code'")
        if kind == "fail_first_n" and not isinstance(spec.get("n"), int):
            raise ValueError(f"mock for {resource!r}: 'fail_first_n' needs an integer 'n'")
        return cls(kind, spec.get("value"), spec.get("code", ErrorCodes.TASK_FAILED), spec.get("detail"), spec.get("n", 0))


class MockIntegrations(IntegrationRegistry):
    """A registry answering calls to mocked resources with fakes; other calls go to ``fallback``.

    ``calls`` counts invocations per resource (retries and child executions included).
    """

    def __init__(self, behaviours: Mapping[str, Behaviour], fallback: IntegrationRegistry | None = None):
        super().__init__()
        self.behaviours = dict(behaviours)
        self.fallback = fallback or default_registry()
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()

    def invoke(self, call: TaskCall) -> Any:
        resource = call.resource
        behaviour = self.behaviours.get(resource) if resource is not None else None
        if behaviour is None:
            return self.fallback.invoke(call)
        with self._lock:
            number = self.calls.get(resource, 0) + 1
            self.calls[resource] = number
        kind = behaviour.kind
        if kind == "fail" or (kind == "fail_first_n" and number <= behaviour.n):
            raise FlowError(behaviour.code, behaviour.detail, state=call.state_name or None)
        if kind == "constant":
            value = behaviour.value
        else:
            params = call.parameters
            value = params.get("body") if isinstance(params, dict) else None
        return {"Body": value} if call.action == FC_INVOKE else value

    def may_block(self, action: str) -> bool:
        return False


def load_mocks(source: str | Path | Mapping[str, Any], fallback: IntegrationRegistry | None = None) -> MockIntegrations:
    """Build fakes from a JSON object ``{resource: {"behaviour": …, …}}`` (a dict or a file path)."""
    if isinstance(source, (str, Path)):
        data = json.loads(Path(source).read_text(encoding="utf-8"))
    else:
        data = source
    if not isinstance(data, dict):
        raise ValueError("mocks must be a JSON object mapping resources to behaviours")
    return MockIntegrations({k: Behaviour.from_json(k, v) for k, v in data.items()}, fallback)
