"""What a Task state calls: an explicit registry from ``Action`` to a runner.

"A Task state calls one API operation of an integrated service as a single unit of work"
(cloudflow-language §1.2). An Action with no runner fails the Task with ``FnF.ActionNotSupported``
naming it. The built-in integrations are wired in ``catalogue.default_registry()``.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..exceptions import ErrorCodes, FlowError
from ..runtime.ports import TaskCall, TaskRunner
from ..partitions import canonical


Runner = TaskRunner


class IntegrationRegistry:
    """``Action`` → runner. ``invoke(call)`` returns the raw result (``$Output``): the runtime's
    ``runtime.ports.TaskInvoker``."""

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

