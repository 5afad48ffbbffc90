"""The ASL context object (``$$`` / ``$states.context``), workflow-variable scopes, history event ids.

"``Execution``: ``{Id, Input, Name, RoleArn, StartTime, RedriveCount}``. ``StateMachine``: ``{Id,
Name}``. ``State``: ``{Name, EnteredTime, RetryCount}`` … ``Map.Item``: ``{Index, Value}`` … Inside
a distributed child, ``Execution`` refers to the child execution" (asl-distributed-map.md §6).
The recorded key order is Execution{Id, Input, StartTime, Name, RoleArn, RedriveCount},
StateMachine{Id, Name}, State{Name, EnteredTime} [REC other_context_input_path].

Runtime causes name "the event id" the state was entered at ("An error occurred while executing the
state 'S' (entered at the event id #2)"): every execution keeps a counter that advances as AWS's
history would (entered/exited, task scheduled/started/finished, map iteration started/finished…).
"""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from typing import Any

from airflow_cloudflow.runtime.context import ExecutionContext

PARTITION, REGION, ACCOUNT = "aws", "us-east-1", "123456789012"
ROLE_ARN = f"arn:{PARTITION}:iam::{ACCOUNT}:role/airflow-cloudflow-execution"


def arn(kind: str, rest: str) -> str:
    return f"arn:{PARTITION}:states:{REGION}:{ACCOUNT}:{kind}:{rest}"


def iso_time(moment: datetime) -> str:
    """``2024-01-01T00:00:00.000Z`` (UTC, milliseconds), as Step Functions prints times."""
    moment = moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def prepare(ctx: ExecutionContext) -> ExecutionContext:
    """Give an execution its history event counter on first use (#1 is ``ExecutionStarted``).

    Workflow variables live in ``ctx.globals``, the execution-level map the engine already carries
    from task to task (CloudFlow's ``$Global``; an ASL machine has no other use for it)."""
    if ctx.events is None:
        ctx.events = itertools.count(2)
    return ctx


def next_event(ctx: ExecutionContext, n: int = 1) -> int:
    """Advance the history by ``n`` events; the id of the first one."""
    first = next(ctx.events)
    for _ in range(n - 1):
        next(ctx.events)
    return first


def execution_object(ctx: ExecutionContext) -> dict[str, Any]:
    if ctx.asl_execution is None:
        ctx.asl_execution = {
            "Id": arn("execution", f"{ctx.flow_name}:{ctx.name}"),
            "Input": ctx.input,
            "StartTime": iso_time(ctx.started),
            "Name": ctx.name,
            "RoleArn": ROLE_ARN,
            "RedriveCount": ctx.redrive_count,
        }
    return ctx.asl_execution


def context_object(
    ctx: ExecutionContext,
    state_name: str,
    entered: datetime | None = None,
    retry_count: int | None = None,
    item: tuple[int, Any] | None = None,
) -> dict[str, Any]:
    """``$$`` for a state of this execution (``item``: ``(index, value)`` inside an ItemSelector)."""
    state: dict[str, Any] = {"Name": state_name, "EnteredTime": iso_time(entered or ctx.clock.now())}
    if retry_count is not None:
        state["RetryCount"] = retry_count
    obj: dict[str, Any] = {
        "Execution": execution_object(ctx),
        "StateMachine": {"Id": arn("stateMachine", ctx.flow_name), "Name": ctx.flow_name},
        "State": state,
    }
    if item is not None:
        obj["Map"] = {"Item": {"Index": item[0], "Value": item[1]}}
    return obj


def scoped(ctx: ExecutionContext) -> ExecutionContext:
    """A view of ``ctx`` for one Map iteration or Parallel branch: same execution and history, its
    own variable scope. "Iterations can read outer-scope variables"; "Variables assigned inside an
    iteration are not visible outside" [REC imap_assign_scope]."""
    prepare(ctx)
    child = ExecutionContext.__new__(ExecutionContext)
    for slot in ExecutionContext.__slots__:
        object.__setattr__(child, slot, getattr(ctx, slot))
    child.globals = dict(ctx.globals)
    return child


def assign(ctx: ExecutionContext, values: Any) -> None:
    """``Assign``: every value was evaluated first, then all are set at once."""
    if isinstance(values, dict) and values:
        ctx.globals = {**ctx.globals, **values}


def variables_for(ctx: ExecutionContext, value: Any, context: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The evaluation dict both query languages read: ``input``, ``context``, ``variables``."""
    out = {"input": value, "context": context, "variables": ctx.globals}
    out.update(extra)
    return out
