"""Sub-flows: ``FNF:StartExecution`` (CloudFlow) and ``arn:aws:states:::states:startExecution[.sync[:2]]`` (ASL).

cloudflow-language §4.4: "``resourceArn`` (req): ``acs:fnf:{region}::flow/{flowName}``";
"``executionName`` (optional): auto-generated as a UUID if omitted"; "``input`` (object)";
"Output (RequestComplete): ``{"FlowName":"test-workflow","ExecutionName":"36cc6107-…","RequestID":"…"}``.
It does not wait for the child."; "WaitForSystemCallback: waits for the child to finish [INFERRED:
output = child output]".

This runner executes the child **in-process** with the core interpreter (same integrations and
stores). The child's definition is found by flow name among the definitions under the
``flows`` folders: the CLI's ``CLOUDFLOW_FLOWS_DIR`` (``os.pathsep``-separated folders), in Airflow
the DAGs folder. A CloudFlow flow matches on its ``Name``; an ASL state machine on its file name
(``<name>.asl.json``) or its name. Decisions (docs/integrations.md):

* ``RequestComplete`` runs the child to completion before returning the acknowledgement (a CLI
  process cannot outlive it); the child's failure does not fail the parent, as with the cloud.
* ``WaitForSystemCallback`` returns the child's output, or fails with the child's error code/detail.
* no definition found → ``FnF.FlowNotExisted`` naming the flow and the folders searched.
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

from ..exceptions import ErrorCodes, FlowError
from .registry import TaskCall

FLOWS_ENV = "CLOUDFLOW_FLOWS_DIR"
FLOW_NOT_FOUND = "FnF.FlowNotExisted"
PATTERNS = ("*.flow.yaml", "*.flow.yml", "*.asl.json")
_FNF_ARN = re.compile(r"^acs:fnf:[^:]*:[^:]*:flow/(?P<name>[A-Za-z0-9_-]{1,128})$")
_SFN_ARN = re.compile(r"^arn:aws[a-z-]*:states:[^:]*:[^:]*:stateMachine:(?P<name>[A-Za-z0-9_-]{1,80})$")


def flows_from_environment() -> tuple[Path, ...]:
    return tuple(Path(p) for p in os.environ.get(FLOWS_ENV, "").split(os.pathsep) if p.strip())


@dataclass
class FlowFinder:
    """Flow name → model, searching ``folders`` (re-scanned when a name is not in the cache)."""

    folders: Sequence[Path] | Callable[[], Sequence[Path]] = field(default=flows_from_environment)
    _cache: dict[str, Path] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _folders(self) -> list[Path]:
        folders = self.folders() if callable(self.folders) else self.folders
        return [Path(f) for f in folders]

    def _scan(self) -> None:
        from ..dialects import load_definition
        from ..exceptions import DefinitionError

        for folder in self._folders():
            for pattern in PATTERNS:
                for path in sorted(folder.rglob(pattern)):
                    if path in self._cache.values():
                        continue
                    if pattern == "*.asl.json":
                        self._cache.setdefault(path.name[: -len(".asl.json")], path)
                    try:
                        machine = load_definition(path)
                    except (DefinitionError, OSError):
                        continue
                    self._cache.setdefault(machine.name, path)

    def find(self, name: str):
        from ..dialects import load_definition

        with self._lock:
            if name not in self._cache:
                self._scan()
            path = self._cache.get(name)
        if path is None:
            searched = ", ".join(str(f) for f in self._folders()) or f"no folders (set {FLOWS_ENV})"
            raise FlowError(FLOW_NOT_FOUND, f"no definition of flow {name!r} found in {searched}")
        return load_definition(path)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


@dataclass(frozen=True)
class ChildRun:
    """Runs a child flow with the parent's integrations and stores."""

    finder: FlowFinder
    integrations: Callable[[], Any]
    stores: Callable[[], Any] = lambda: None

    def run(self, name: str, execution_input: Any, execution_name: str):
        from ..runtime.interpreter import Interpreter

        machine = self.finder.find(name)
        interpreter = Interpreter(machine, integrations=self.integrations(), stores=self.stores())
        return interpreter.execute(execution_input, execution_name=execution_name)


@dataclass(frozen=True)
class StartExecution:
    """The ``FNF:StartExecution`` runner."""

    child: ChildRun

    def __call__(self, call: TaskCall) -> Any:
        params = call.parameters if isinstance(call.parameters, dict) else {}
        arn = params.get("resourceArn")
        match = _FNF_ARN.match(arn) if isinstance(arn, str) else None
        if match is None:
            raise FlowError("FnF.InvalidArgument", f"resourceArn {arn!r} is not acs:fnf:{{region}}::flow/{{flowName}}")
        execution_name = params.get("executionName") or str(uuid.uuid4())
        child_input = params.get("input") if params.get("input") is not None else {}
        result = self.child.run(match["name"], child_input, execution_name)
        if call.task_mode == "WaitForSystemCallback":
            if not result.succeeded:
                error = result.error
                raise FlowError(error.code if error else ErrorCodes.TASK_FAILED, error.detail if error else None,
                                state=call.state_name or None)
            return result.output
        return {"FlowName": match["name"], "ExecutionName": execution_name, "RequestID": str(uuid.uuid4())}


@dataclass(frozen=True)
class StatesStartExecution:
    """``arn:aws:states:::states:startExecution`` (``wait``: ``.sync`` / ``.sync:2``)."""

    child: ChildRun
    wait: bool = False
    output_as_json: bool = False

    def __call__(self, call: TaskCall) -> Any:
        params = call.parameters if isinstance(call.parameters, dict) else {}
        arn = params.get("StateMachineArn")
        match = _SFN_ARN.match(arn) if isinstance(arn, str) else None
        if match is None:
            raise FlowError("States.Runtime", f"StateMachineArn {arn!r} is not a state machine ARN")
        child_input = params.get("Input", {})
        if isinstance(child_input, str):
            try:
                child_input = json.loads(child_input)
            except ValueError:
                raise FlowError("States.Runtime", "Input is a string that is not JSON") from None
        name = params.get("Name") or str(uuid.uuid4())
        execution_arn = arn.replace(":stateMachine:", ":execution:") + f":{name}"
        started = _now()
        result = self.child.run(match["name"], child_input, name)
        if not self.wait:
            return {"ExecutionArn": execution_arn, "StartDate": started}
        if not result.succeeded:
            error = result.error
            raise FlowError("States.TaskFailed", json.dumps({"Error": error.code if error else None,
                                                             "Cause": error.detail if error else None}),
                            state=call.state_name or None)
        return {
            "ExecutionArn": execution_arn, "StateMachineArn": arn, "Name": name, "Status": "SUCCEEDED",
            "StartDate": started, "StopDate": _now(),
            "Input": child_input if self.output_as_json else json.dumps(child_input),
            "Output": result.output if self.output_as_json else json.dumps(result.output),
        }
