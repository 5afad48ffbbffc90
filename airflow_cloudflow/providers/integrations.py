"""The Task integrations of one DAG, wired to Airflow: ``airflow_registry(options)``.

* connections through ``BaseHook.get_connection`` (``alibaba_cloud_default`` for FC, the DAG's
  ``aws_conn_id`` for Lambda through the amazon provider's ``LambdaHook``);
* OSS/S3 actions on the DAG's stores (``store_resolver_for(options)``);
* sub-flows found in the DAGs folder (and the folder of the DAG's own definition);
* callback tokens under the staging location's ``callbacks/`` folder (so ``airflow-cloudflow
  callback … --at <staging_url>`` can answer from any machine);
* ``Python:Call`` and ``Airflow:Operator`` restricted to ``[cloudflow] allowed_modules``.

``Airflow:Operator`` (an extension, off the cloud spec): Parameters ``{operator: "pkg.mod.Class",
arguments: {...}}``; the operator is built with ``task_id`` = the state name and executed in the
running task's context; its return value (what it would push as ``return_value`` XCom) is ``$Output``.
Nothing connects when the registry is built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..integrations.catalogue import IntegrationCatalogue, build_registry
from ..integrations.extensions import json_result, load_attribute
from ..runtime.ports import TaskCall
from ..storage.recording import RecordingResolver
from .options import DagOptions

AIRFLOW_OPERATOR = "Airflow:Operator"


def connection_lookup(conn_id: str):
    """conn id → ``RawConnection`` through Airflow's secrets backends, env vars and metadata DB."""
    from airflow.sdk import BaseHook

    from .hooks import raw_connection

    return raw_connection(BaseHook.get_connection(conn_id))


def aws_clients(aws_conn_id: str):
    """service → boto3 client of the amazon provider's hooks (its credential chain and endpoint)."""

    def make(service: str) -> Any:
        if service == "lambda":
            from airflow.providers.amazon.aws.hooks.lambda_function import LambdaHook

            return LambdaHook(aws_conn_id=aws_conn_id).conn
        from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

        return AwsBaseHook(aws_conn_id=aws_conn_id, client_type=service).get_conn()

    return make


def _flow_folders(options: DagOptions) -> list[Path]:
    from airflow.configuration import conf

    folders = [Path(conf.get("core", "dags_folder"))]
    if options.source_path:
        folders.insert(0, Path(options.source_path).parent)
    return folders


def _token_store(options: DagOptions):
    from ..integrations.callbacks import TokenStore
    from .staging import staging_at

    staging = staging_at(options, "callbacks")
    return TokenStore(staging.store, staging.bucket, staging.prefix.strip("/") + "/")


class RunOperator:
    """The ``Airflow:Operator`` runner."""

    def __init__(self, allowed: tuple[str, ...]):
        self.allowed = allowed

    def __call__(self, call: TaskCall) -> Any:
        from airflow.sdk import get_current_context

        from ..exceptions import FlowError

        params = call.parameters if isinstance(call.parameters, dict) else {}
        path = params.get("operator")
        cls = load_attribute(path, self.allowed, "operator")
        arguments = params.get("arguments") or {}
        if not isinstance(arguments, dict) or not isinstance(cls, type):
            raise FlowError("Extension.NotAllowed", f"operator {path!r}: a class and an 'arguments' object are needed")
        try:
            operator = cls(task_id=(call.state_name or "operator").replace(" ", "_")[:250], **arguments)
            value = operator.execute(get_current_context())
        except FlowError:
            raise
        except Exception as exc:  # the operator failed: its class name is the error code
            raise FlowError(f"Airflow.{type(exc).__name__}", str(exc)[:1000], state=call.state_name or None) from None
        return json_result(value, f"operator {path!r}")


def airflow_registry(options: DagOptions) -> IntegrationCatalogue:
    """Every built-in integration plus ``Airflow:Operator``, with Airflow's connections and the DAG's stores."""
    from .hooks import store_resolver_for
    from .config import settings

    allowed = settings().allowed_modules
    registry = build_registry(
        connections=connection_lookup,
        stores=lambda: RecordingResolver(store_resolver_for(options)),  # assets of run-time locations
        flows=lambda: _flow_folders(options),
        allowed_modules=allowed,
        callbacks=lambda: _token_store(options),
        aws_clients=aws_clients(options.aws_conn_id),
        alibaba_conn_id=getattr(options, "alibaba_conn_id", None),
    )
    registry.register(AIRFLOW_OPERATOR, RunOperator(allowed))
    return registry


__all__ = ["AIRFLOW_OPERATOR", "RunOperator", "airflow_registry", "aws_clients", "connection_lookup"]
