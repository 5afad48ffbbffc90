"""Small helpers for runtime tests: build a machine from YAML and run it with a FakeClock."""

from __future__ import annotations

import textwrap
from typing import Any

from airflow_cloudflow.dialects import load_definition_text
from airflow_cloudflow.integrations.mocks import load_mocks
from airflow_cloudflow.runtime.clock import FakeClock
from airflow_cloudflow.runtime.interpreter import ExecutionResult, Interpreter
from airflow_cloudflow.storage.resolver import StoreResolver

HEADER = "Type: StateMachine\nName: t\nSpecVersion: v1\n"
FC = "acs:fc:cn-hangzhou:1:functions/f/LATEST"


def machine(states_yaml: str, start: str | None = None, extra: str = ""):
    body = textwrap.dedent(states_yaml).strip("\n")
    if start is None:
        first = [line for line in body.splitlines() if "Name:" in line][0]
        start = first.split("Name:", 1)[1].strip()
    text = HEADER + extra + f"StartAt: {start}\nStates:\n" + textwrap.indent(body, "  ") + "\n"
    return load_definition_text(text, "t.flow.yaml")


def interpreter(states_yaml: str, *, mocks: dict | None = None, integrations=None, clock=None,
                store=None, extra: str = "", start: str | None = None) -> Interpreter:
    return Interpreter(
        machine(states_yaml, start, extra),
        integrations=integrations if integrations is not None else load_mocks(mocks or {}),
        stores=StoreResolver.local(store) if store is not None else None,
        clock=clock or FakeClock(),
    )


def run(states_yaml: str, input: Any = None, **kw) -> ExecutionResult:
    return interpreter(states_yaml, **kw).execute({} if input is None else input)


def fc_task(name: str, *, arn: str = FC, body: str = "body.$: $Input", extra: str = "", end: bool = True) -> str:
    """A FC Task state in YAML (top level of ``States``)."""
    tail = "End: true" if end else ""
    return f"""
- Type: Task
  Name: {name}
  Action: FC:InvokeFunction
  Parameters:
    resourceArn: {arn}
    invocationType: Sync
    {body}
{textwrap.indent(textwrap.dedent(extra).strip(chr(10)), '  ')}
  {tail}
"""


def dmap(extra: str = "", processor: str | None = None, items: str = "ItemsPath: $Input.xs") -> str:
    """A distributed Map ``M`` (top level of ``States``) over ``items``, its Processor a Pass by default."""
    processor = processor or """
      - Type: Pass
        Name: P
        End: true"""
    return f"""
- Type: Map
  Name: M
  ProcessorConfig:
    ExecutionMode: Express
  {items}
{extra}
  Processor:
    StartAt: {processor.split('Name:')[1].split()[0]}
    States:{processor}
  End: true
"""
