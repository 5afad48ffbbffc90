"""The built-in integrations, wired into one registry (``default_registry()``).

Construction is cheap and offline: runners hold only how to find their connection, stores and
definitions; nothing connects and boto3 is not imported until a Task calls. Every Action of
docs/integrations.md is here; an Action not listed fails with ``FnF.ActionNotSupported`` naming it
(MNS:SendMessage and EventBridge:PutEvents among them, with a lint warning CF-W002).

``WaitForCustomCallback`` wraps any runner: a task token is minted and recorded as pending, the
request goes out carrying it, and the Task waits for ``airflow-cloudflow callback …`` (see
``callbacks.py``).
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from .registry import IntegrationRegistry
from ..runtime.ports import TaskCall

CLOUDFLOW_OSS_OPERATIONS = ("GetObject", "PutObject", "CopyObject", "HeadObject", "ListObjects")


class IntegrationCatalogue(IntegrationRegistry):
    """A registry that also runs ``WaitForCustomCallback`` calls through a ``CallbackWaiter``."""

    def __init__(self, waiter: Any = None):
        super().__init__()
        self.waiter = waiter

    def send(self, call: TaskCall) -> Any:
        """The call's runner alone, without waiting for a callback (the Airflow engine defers instead)."""
        return super().invoke(call)

    def invoke(self, call: TaskCall) -> Any:
        if call.task_mode == "WaitForCustomCallback" and self.waiter is not None:
            self.runner_for(call.action) or super().invoke(call)  # unknown Action: fail before a token is made
            return self.waiter(call, super().invoke)
        return super().invoke(call)


def _memo(factory: Callable[[], Any]) -> Callable[[], Any]:
    """Call ``factory`` once, on first use (thread-safe)."""
    box: dict[str, Any] = {}
    lock = threading.Lock()

    def get() -> Any:
        with lock:
            if "value" not in box:
                box["value"] = factory()
            return box["value"]

    return get


def _stores_from_environment():
    from ..storage.resolver import StoreResolver

    return StoreResolver.from_environment()


def build_registry(
    *,
    connections: Callable | None = None,
    stores: Any = None,
    flows: Any = None,
    allowed_modules: tuple[str, ...] | None = None,
    callbacks: Callable[[], Any] | None = None,
    aws_clients: Callable[[str], Any] | None = None,
    alibaba_conn_id: str | None = None,
    callback_poll_seconds: float | None = None,
    announce_callbacks: bool = True,
) -> IntegrationCatalogue:
    """Every built-in integration.

    * ``connections``: conn id → ``RawConnection`` (default: ``AIRFLOW_CONN_<ID>`` variables).
    * ``stores``: a ``StoreResolver`` or a factory (default: ``StoreResolver.from_environment()`` on first use).
    * ``flows``: folders holding sub-flow definitions, or a factory (default ``CLOUDFLOW_FLOWS_DIR``).
    * ``allowed_modules``: ``Python:Call`` prefixes (default ``AIRFLOW__CLOUDFLOW__ALLOWED_MODULES``).
    * ``callbacks``: factory of the ``TokenStore`` (default: the local token folder).
    * ``aws_clients``: service → boto3 client (default: from the ``aws_default`` connection).
    """
    from . import aws, callbacks as cb, extensions, fc, http, oss_actions, subflow
    from .connections import ALIBABA_CONN_ID, environment_lookup

    lookup = connections or environment_lookup()
    if stores is None:
        stores = _memo(_stores_from_environment)
    elif hasattr(stores, "for_scheme"):
        stores = (lambda resolver: lambda: resolver)(stores)
    else:
        stores = _memo(stores)
    token_store = _memo(callbacks or cb.TokenStore.local)
    waiter = cb.CallbackWaiter(
        token_store,
        poll_seconds=callback_poll_seconds or cb.DEFAULT_POLL_SECONDS,
        announce=cb.print_announcement if announce_callbacks else None,
    )
    registry = IntegrationCatalogue(waiter)

    registry.register("HTTP:Request", http.HttpRequest())
    registry.register("FC:InvokeFunction", fc.InvokeFunction(lookup, alibaba_conn_id or ALIBABA_CONN_ID))
    for operation in CLOUDFLOW_OSS_OPERATIONS:
        registry.register(f"OSS:{operation}", oss_actions.OssAction(operation, stores))
    registry.register("Python:Call", extensions.PythonCall(allowed_modules))

    if flows is None:
        finder = subflow.FlowFinder()
    elif callable(flows):
        finder = subflow.FlowFinder(flows)
    elif isinstance(flows, str) or hasattr(flows, "__fspath__"):
        finder = subflow.FlowFinder([flows])
    else:
        finder = subflow.FlowFinder(list(flows))
    child = subflow.ChildRun(finder, integrations=lambda: registry, stores=stores)
    start = subflow.StartExecution(child)
    for action in subflow.SUBFLOW_ACTIONS:
        registry.register(action, start)

    clients = aws_clients or _memo_clients(aws.environment_clients(lookup))
    registry.register(aws.LAMBDA_INVOKE, aws.LambdaInvoke(clients))
    registry.register_prefix(aws.LAMBDA_ARN_PREFIX, aws.LambdaInvoke(clients, optimized=False))
    for operation in aws.S3_OPERATIONS:
        registry.register(f"arn:aws:states:::s3:{operation}", aws.S3Action(operation, stores))
        registry.register(f"arn:aws:states:::aws-sdk:s3:{operation}", aws.S3Action(operation, stores))
    registry.register("arn:aws:states:::http:invoke", http.HttpInvoke())
    return registry


def _memo_clients(make: Callable[[str], Any]) -> Callable[[str], Any]:
    made: dict[str, Any] = {}
    lock = threading.Lock()

    def get(service: str) -> Any:
        with lock:
            if service not in made:
                made[service] = make(service)
            return made[service]

    return get


def default_registry(**wiring: Any) -> IntegrationRegistry:
    """The built-in integrations, each connecting lazily on first use.

    ``wiring`` (all optional) is passed to ``build_registry``: ``connections`` (conn id →
    ``RawConnection``; default ``AIRFLOW_CONN_*`` environment variables), ``stores`` (a
    ``StoreResolver`` or a factory; default from the environment), ``flows`` (where sub-flow
    definitions are found), ``allowed_modules``, ``callbacks`` (the task-token store).
    """
    return build_registry(**wiring)
