"""Fake functions for runs and tests, keyed by the Task's resource (FC ``resourceArn``).

Behaviours, exactly as the conformance README defines them:

* ``identity``: "Returns the invocation body unchanged … With no ``body``, it returns null."
* ``constant`` (``value``): "Returns ``value`` and ignores the body."
* ``fail`` (``code``, ``detail``): "Every invocation fails … with error code ``code`` and detail ``detail``."
* ``fail_first_n`` (``n``, ``code``, ``detail``): "The first ``n`` invocations of this ARN in one
  execution fail exactly like ``fail`` … Every later invocation behaves like ``identity``."

"A Task with no OutputConstructor outputs ``$Output``, which is ``{"Body": <function return value>}``"
for ``FC:InvokeFunction``; other actions return the value itself.

ASL Lambda resources: a mock may be keyed by the function's ARN or its bare name. For
``arn:aws:states:::lambda:invoke`` (and its ``.waitForTaskToken`` form) the event is
``Parameters.Payload`` and the result ``{"ExecutedVersion": "$LATEST", "Payload": <return>,
"StatusCode": 200}``; for a plain ``arn:aws:lambda:…:function:name`` Resource the event is the whole
effective input and the result the function's return value; for any other ASL resource (``dynamodb:putItem``,
``aws-sdk:…``, ``sqs:sendMessage.waitForTaskToken``…) ``identity`` returns the Task's Parameters/Arguments.
Resources in the ``aws-cn`` / ``aws-us-gov`` partitions are mocked like their ``aws`` form (a mock keyed
by either matches). ``fail`` yields Error=``code``,
Cause=``detail``. ``sleep_seconds`` (any behaviour) is the function's run time, spent on the
execution's clock by the ASL Task (so a ``TimeoutSeconds`` shorter than it times the Task out).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..exceptions import ErrorCodes, FlowError
from ..jsonvalues import loads_strict
from ..partitions import canonical
from .registry import IntegrationRegistry
from ..runtime.ports import TaskCall
from .catalogue import default_registry

BEHAVIOURS = ("identity", "constant", "fail", "fail_first_n")
FC_INVOKE = "FC:InvokeFunction"
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
LAMBDA_ARN = "arn:aws:lambda:"


@dataclass(frozen=True)
class Behaviour:
    """One fake: ``kind`` is one of BEHAVIOURS."""

    kind: str
    value: Any = None
    code: str = ErrorCodes.TASK_FAILED
    detail: str | None = None
    n: int = 0
    sleep_seconds: float = 0.0

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
        sleep = spec.get("sleep_seconds", 0)
        if isinstance(sleep, bool) or not isinstance(sleep, (int, float)) or sleep < 0:
            raise ValueError(f"mock for {resource!r}: 'sleep_seconds' must be a non-negative number")
        return cls(kind, spec.get("value"), spec.get("code", ErrorCodes.TASK_FAILED), spec.get("detail"),
                   spec.get("n", 0), float(sleep))


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

    def _find(self, call: TaskCall) -> tuple[str | None, Behaviour | None]:
        resource = call.resource
        if resource is None:
            return None, None
        behaviour = self.behaviours.get(resource)
        if behaviour is None and canonical(resource) != resource:  # written in another partition / …waitForTaskToken
            behaviour = self.behaviours.get(canonical(resource))
        if behaviour is None and canonical(resource).startswith(LAMBDA_ARN):  # arn:aws:lambda:r:a:function:NAME[:q]
            parts = resource.split(":")
            if len(parts) >= 7:
                behaviour = self.behaviours.get(parts[6])
        return resource, behaviour

    def duration(self, call: TaskCall) -> float | None:
        """How long the mocked function runs (``sleep_seconds``), when mocked."""
        behaviour = self._find(call)[1]
        return behaviour.sleep_seconds if behaviour is not None and behaviour.sleep_seconds else None

    def answers(self, call: TaskCall) -> bool:
        """Whether a fake answers ``call`` (its resource is mocked)."""
        return self._find(call)[1] is not None

    def send(self, call: TaskCall) -> Any:
        """As ``invoke``, but an unmocked call goes to the fallback's ``send`` (no callback wait)."""
        if self.answers(call):
            return self.invoke(call)
        send = getattr(self.fallback, "send", None)
        return send(call) if send is not None else self.fallback.invoke(call)

    def invoke(self, call: TaskCall) -> Any:
        resource, behaviour = self._find(call)
        if behaviour is None:
            return self.fallback.invoke(call)
        with self._lock:
            number = self.calls.get(resource, 0) + 1
            self.calls[resource] = number
        kind = behaviour.kind
        if kind == "fail" or (kind == "fail_first_n" and number <= behaviour.n):
            raise FlowError(behaviour.code, behaviour.detail, state=call.state_name or None)
        params = call.parameters
        action = canonical(call.action)
        lambda_invoke = action == LAMBDA_INVOKE
        if kind == "constant":
            value = behaviour.value
        elif lambda_invoke:
            value = params.get("Payload") if isinstance(params, dict) else None
        elif action.startswith("arn:"):  # any other ASL resource: its Parameters/Arguments
            value = params
        else:
            value = params.get("body") if isinstance(params, dict) else None
        if lambda_invoke:
            return {"ExecutedVersion": "$LATEST", "Payload": value, "StatusCode": 200}
        return {"Body": value} if call.action == FC_INVOKE else value

    def may_block(self, action: str) -> bool:
        return False


def load_mocks(source: str | Path | Mapping[str, Any], fallback: IntegrationRegistry | None = None) -> MockIntegrations:
    """Build fakes from a JSON object ``{resource: {"behaviour": …, …}}`` (a dict or a file path)."""
    if isinstance(source, (str, Path)):
        data = loads_strict(Path(source).read_text(encoding="utf-8"))  # standard JSON only, as --input
    else:
        data = source
    if not isinstance(data, dict):
        raise ValueError("mocks must be a JSON object mapping resources to behaviours")
    return MockIntegrations({k: Behaviour.from_json(k, v) for k, v in data.items()}, fallback)
