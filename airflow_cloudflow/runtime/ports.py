"""What the runtime needs from outside, declared here so that the outside depends on the runtime.

The interpreter is handed three objects (``Interpreter(machine, integrations=, stores=, clock=)``)
and calls them only through these interfaces; ``integrations/``, ``storage/`` and ``providers/``
implement them. Nothing under ``runtime/`` imports those packages (an import-linter contract in
``pyproject.toml`` keeps it so).

* ``TaskInvoker`` (``integrations=``): "A Task state calls one API operation of an integrated
  service as a single unit of work" (cloudflow-language §1.2). Every call goes through it: service
  APIs, starting a sub-flow (``FNF:StartExecution``, ``arn:aws:states:::states:startExecution``)
  and waiting for a callback (``TaskCall.task_mode == "WaitForCustomCallback"``: the runner blocks
  until ``TaskCall.task_token`` is answered). ``integrations.registry.IntegrationRegistry`` is the
  implementation, ``integrations.catalogue.default_registry()`` the built-in wiring.
* ``MapStorage`` (``stores=``): a distributed Map's ItemReader and ResultWriter — object stores by
  URL scheme, the dialects' item formats and result layouts. ``storage.resolver.StoreResolver``
  implements it (``storage.map_files.MapFiles``).
* ``Clock`` (``clock=``): ``now``, ``sleep``, ``wait`` (``runtime.clock``; ``SystemClock`` is the
  default, ``FakeClock`` the tests').
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Protocol

from ..exceptions import ErrorCodes, FlowError
from .clock import Clock
from .records import ChildExecution


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


def resource_of(action: str, parameters: Any) -> str | None:
    """The resource a call addresses, used to key fakes: ``resourceArn``, ``FunctionName``,
    else the action itself for ARN-style actions (ASL ``Resource``)."""
    if isinstance(parameters, dict):
        for key in ("resourceArn", "FunctionName"):
            value = parameters.get(key)
            if isinstance(value, str):
                return value
    return action if action.startswith("arn:") else None


TaskRunner = Callable[[TaskCall], Any]
"""One integration: a call → its raw result (``$Output``), or ``FlowError`` with the spec's code."""


def new_task_token(execution_name: str = "", state_name: str = "") -> str:
    """A fresh, unguessable token (``[A-Za-z0-9_-]``, safe as an object key): "CloudFlow sends a
    task token (``$Context.Current.TaskToken``) with the request" of a ``WaitForCustomCallback``."""
    del execution_name, state_name  # tokens carry no data: they are looked up
    return "cft-" + uuid.uuid4().hex + uuid.uuid4().hex[:16]


class TaskInvoker(Protocol):
    """Answers the Task calls of an execution."""

    def invoke(self, call: TaskCall) -> Any:
        """The call's raw result; ``FlowError`` for a failure the flow may Retry/Catch."""
        ...

    def may_block(self, action: str) -> bool:
        """Whether a call of ``action`` may wait on I/O (True: run it on the thread pool)."""
        ...


class NoIntegrations:
    """The ``TaskInvoker`` of an interpreter given none: every Task fails with
    ``FnF.ActionNotSupported`` naming its Action (an empty registry's answer)."""

    def invoke(self, call: TaskCall) -> Any:
        raise FlowError(ErrorCodes.ACTION_NOT_SUPPORTED, f"no integration for Action {call.action!r}",
                        state=call.state_name or None)

    def may_block(self, action: str) -> bool:
        return True


class StagedCounts(Protocol):
    """Records the shards already rendered and wrote (``planning.shards``): only their counts are
    read here."""

    items: int
    failed_items: int
    children: int
    failed_children: int


class MapStorage(Protocol):
    """A distributed Map's ItemReader and ResultWriter. ``store`` is what ``for_scheme`` returned
    (``oss`` for CloudFlow, ``s3`` for ASL); errors are ``StoreError`` or ``FlowError``."""

    def for_scheme(self, scheme: str) -> Any:
        """The object store serving ``scheme://`` URLs; ``StoreError`` when none is configured."""
        ...

    def read_cloudflow_items(self, store: Any, source_type: str, parameters: Any, *, csv_headers: Any,
                             max_items: int | None) -> Iterator[Any]:
        """CloudFlow ``ItemReader`` items, streamed (``SourceType`` OSS_CSV, OSS_JSON_LIST, …)."""
        ...

    def write_cloudflow_results(self, store: Any, *, bucket: str, prefix: str, map_run_name: str,
                                flow_name: str, children: Iterable[ChildExecution] | None = None,
                                staged: StagedCounts | None = None) -> str:
        """CloudFlow ``ResultWriter`` files from ``children`` (in index order) or the shards'
        ``staged`` records, manifest last; returns the manifest's key."""
        ...

    def read_asl_items(self, store: Any, source: str, parameters: Any, config: Any, *,
                       max_items: int | None) -> Iterator[Any]:
        """ASL ``ItemReader`` items, streamed (``Resource`` / ``ReaderConfig.InputType``)."""
        ...

    def write_asl_results(self, store: Any, *, bucket: str, prefix: str, map_run_arn: str,
                          children: Iterable[ChildExecution] | None = None,
                          staged: StagedCounts | None = None, writer_config: Any = None,
                          express: bool = False) -> dict[str, Any]:
        """ASL ``ResultWriter`` files (``WriterConfig`` shapes them; ``express``: the children are Express
        executions); returns ``{"ResultWriterDetails": {"Bucket", "Key"}}``."""
        ...


__all__ = ["Clock", "MapStorage", "NoIntegrations", "StagedCounts", "TaskCall", "TaskInvoker", "TaskRunner",
           "new_task_token", "resource_of"]
