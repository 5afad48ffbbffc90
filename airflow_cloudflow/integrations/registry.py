"""What a Task state calls: an explicit registry from ``Action`` to a runner.

"A Task state calls one API operation of an integrated service as a single unit of work"
(cloudflow-language §1.2). The default registry holds no real integrations yet; an Action with no
runner fails the Task with ``FnF.ActionNotSupported`` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ..exceptions import ErrorCodes, FlowError
from .partitions import canonical


@dataclass(frozen=True)
class TaskCall:
    """One invocation: the Task's Action, its evaluated Parameters and where it happens."""

    action: str
    parameters: Any
    task_mode: str = "RequestComplete"
    state_name: str = ""
    execution_name: str = ""
    task_token: str | None = None
    """``$Context.Current.TaskToken`` for ``WaitForCustomCallback`` (None: the runner mints one)."""
    heartbeat_seconds: float | None = None
    """ASL ``HeartbeatSeconds`` of a ``.waitForTaskToken`` Task: the longest gap between heartbeats."""

    @property
    def resource(self) -> str | None:
        """The called resource: FC ``Parameters.resourceArn`` (later a Lambda ``FunctionName``)."""
        return resource_of(self.action, self.parameters)


Runner = Callable[[TaskCall], Any]


def resource_of(action: str, parameters: Any) -> str | None:
    """The resource a call addresses, used to key fakes: ``resourceArn``, ``FunctionName``,
    else the action itself for ARN-style actions (ASL ``Resource``)."""
    if isinstance(parameters, dict):
        for key in ("resourceArn", "FunctionName"):
            value = parameters.get(key)
            if isinstance(value, str):
                return value
    return action if action.startswith("arn:") else None


class IntegrationRegistry:
    """``Action`` → runner. ``invoke(call)`` returns the raw result (``$Output``)."""

    def __init__(self, runners: Mapping[str, Runner] | None = None):
        self._runners: dict[str, Runner] = dict(runners or {})
        self._prefixes: dict[str, Runner] = {}

    def register(self, action: str, runner: Runner) -> None:
        self._runners[action] = runner

    def register_prefix(self, prefix: str, runner: Runner) -> None:
        """Serve every Action starting with ``prefix`` (e.g. ``arn:aws:lambda:``); an exact
        registration wins, then the longest matching prefix."""
        self._prefixes[prefix] = runner

    def actions(self) -> tuple[str, ...]:
        return tuple(sorted(self._runners))

    def prefixes(self) -> tuple[str, ...]:
        return tuple(sorted(self._prefixes))

    def runner_for(self, action: str) -> Runner | None:
        """The runner serving ``action`` (exact match first, then the longest prefix), or None. An ARN
        in another partition or with ``.waitForTaskToken`` is served as its ``partitions.canonical`` form."""
        action = canonical(action)
        runner = self._runners.get(action)
        if runner is None:
            matches = [p for p in self._prefixes if action.startswith(p)]
            if matches:
                runner = self._prefixes[max(matches, key=len)]
        return runner

    def invoke(self, call: TaskCall) -> Any:
        runner = self.runner_for(call.action)
        if runner is None:
            raise FlowError(
                ErrorCodes.ACTION_NOT_SUPPORTED,
                f"no integration for Action {call.action!r}",
                state=call.state_name or None,
            )
        return runner(call)

    def may_block(self, action: str) -> bool:
        """Whether a call may wait on I/O (decides the thread-pool path); True unless known fast."""
        return True


def default_registry(**wiring: Any) -> IntegrationRegistry:
    """The built-in integrations (``integrations.catalogue``), each connecting lazily on first use.

    ``wiring`` (all optional) is passed to ``catalogue.build_registry``: ``connections`` (conn id →
    ``RawConnection``; default ``AIRFLOW_CONN_*`` environment variables), ``stores`` (a
    ``StoreResolver`` or a factory; default from the environment), ``flows`` (where sub-flow
    definitions are found), ``allowed_modules``, ``callbacks`` (the task-token store).
    """
    from .catalogue import build_registry

    return build_registry(**wiring)
