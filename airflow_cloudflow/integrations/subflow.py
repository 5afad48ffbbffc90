"""Sub-flows: ``FNF:StartExecution`` (CloudFlow) and ``arn:aws:states:::states:startExecution[.sync[:2]]`` (ASL).

``subflow_request`` (what to start) and ``subflow_output`` (the Task's ``$Output`` from the child's
outcome) are shared by the in-process runner below and the Airflow engine, which starts a real DAG
run of the child instead (``planning/deferred.py``, docs/integrations.md).

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
from ..loader_file import owned_by_nested_loader
from ..dialects import LINT_PATTERNS
from ..runtime.bounds import subflow_level
from ..partitions import canonical
from ..runtime.ports import TaskCall

FLOWS_ENV = "CLOUDFLOW_FLOWS_DIR"
FLOW_NOT_FOUND = "FnF.FlowNotExisted"
PATTERNS = LINT_PATTERNS
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
                    if path in self._cache.values() or owned_by_nested_loader(path, folder):
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


SUBFLOW_ACTIONS: dict[str, tuple[str, bool | None, bool]] = {
    "FNF:StartExecution": ("fnf", None, False),
    "arn:aws:states:::states:startExecution": ("states", False, False),
    "arn:aws:states:::states:startExecution.sync": ("states", True, False),
    "arn:aws:states:::states:startExecution.sync:2": ("states", True, True),
}
"""Action → (dialect, waits for the child (None: by TaskMode), ``.sync:2`` objects instead of JSON texts)."""


def is_subflow(action: str) -> bool:
    return canonical(action) in SUBFLOW_ACTIONS


@dataclass(frozen=True)
class SubflowRequest:
    """One child execution to start, as the Task's evaluated Parameters ask for it: what both the
    in-process runner and the Airflow engine (a real DAG run) need. JSON-able (``to_json``)."""

    action: str
    dialect: str  # "fnf" | "states"
    arn: str
    flow_name: str
    input: Any
    execution_name: str
    wait: bool
    output_as_json: bool = False
    request_id: str = ""
    started: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "dialect": self.dialect, "arn": self.arn, "flow_name": self.flow_name,
                "input": self.input, "execution_name": self.execution_name, "wait": self.wait,
                "output_as_json": self.output_as_json, "request_id": self.request_id, "started": self.started}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "SubflowRequest":
        return cls(**{k: data[k] for k in ("action", "dialect", "arn", "flow_name", "input", "execution_name",
                                            "wait", "output_as_json", "request_id", "started")})


@dataclass(frozen=True)
class ChildOutcome:
    """How a child execution ended: its output, or its error code and detail."""

    succeeded: bool
    output: Any = None
    code: str | None = None
    detail: str | None = None


def subflow_request(call: TaskCall, *, new_name: Callable[[], str] = lambda: str(uuid.uuid4())) -> SubflowRequest:
    """The child a sub-flow call starts. CloudFlow: "``resourceArn`` (req):
    ``acs:fnf:{region}::flow/{flowName}``", "``executionName`` (optional): auto-generated as a UUID
    if omitted", "``input`` (object)"; ASL: ``StateMachineArn``, ``Input`` (object or JSON text), ``Name``."""
    dialect, wait, as_json = SUBFLOW_ACTIONS[canonical(call.action)]
    params = call.parameters if isinstance(call.parameters, dict) else {}
    if dialect == "fnf":
        arn = params.get("resourceArn")
        match = _FNF_ARN.match(arn) if isinstance(arn, str) else None
        if match is None:
            raise FlowError("FnF.InvalidArgument", f"resourceArn {arn!r} is not acs:fnf:{{region}}::flow/{{flowName}}")
        name = params.get("executionName") or new_name()
        child_input = params.get("input") if params.get("input") is not None else {}
        wait = call.task_mode == "WaitForSystemCallback"
    else:
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
        name = params.get("Name") or new_name()
    return SubflowRequest(call.action, dialect, arn, match["name"], child_input, str(name), bool(wait), as_json,
                          str(uuid.uuid4()), _now())


def subflow_output(request: SubflowRequest, outcome: ChildOutcome | None, state_name: str | None = None) -> Any:
    """The Task's ``$Output``. Not waiting (``outcome`` unused): CloudFlow "``{"FlowName",
    "ExecutionName", "RequestID"}``. It does not wait for the child"; ASL ``{ExecutionArn, StartDate}``.
    Waiting: "output = child output" (ASL ``.sync``: the execution description), or the child's
    failure (CloudFlow: its code and detail; ASL: ``States.TaskFailed`` with ``{"Error","Cause"}``)."""
    if request.dialect == "fnf":
        if not request.wait:
            return {"FlowName": request.flow_name, "ExecutionName": request.execution_name,
                    "RequestID": request.request_id}
        if outcome is None or not outcome.succeeded:
            raise FlowError((outcome.code if outcome else None) or ErrorCodes.TASK_FAILED,
                            outcome.detail if outcome else None, state=state_name)
        return outcome.output
    execution_arn = request.arn.replace(":stateMachine:", ":execution:") + f":{request.execution_name}"
    if not request.wait:
        return {"ExecutionArn": execution_arn, "StartDate": request.started}
    if outcome is None or not outcome.succeeded:
        raise FlowError("States.TaskFailed", json.dumps({"Error": outcome.code if outcome else None,
                                                         "Cause": outcome.detail if outcome else None}),
                        state=state_name)
    as_json = request.output_as_json
    return {
        "ExecutionArn": execution_arn, "StateMachineArn": request.arn, "Name": request.execution_name,
        "Status": "SUCCEEDED", "StartDate": request.started, "StopDate": _now(),
        "Input": request.input if as_json else json.dumps(request.input),
        "Output": outcome.output if as_json else json.dumps(outcome.output),
    }


@dataclass(frozen=True)
class StartExecution:
    """The in-process runner of every sub-flow action (``FNF:StartExecution``,
    ``arn:aws:states:::states:startExecution[.sync[:2]]``): the child runs to completion here."""

    child: ChildRun

    def __call__(self, call: TaskCall) -> Any:
        request = subflow_request(call)
        with subflow_level(request.dialect, request.flow_name, call.state_name or None):
            result = self.child.run(request.flow_name, request.input, request.execution_name)
        error = result.error
        outcome = ChildOutcome(result.succeeded, result.output, error.code if error else None,
                               error.detail if error else None)
        return subflow_output(request, outcome, call.state_name or None)


StatesStartExecution = StartExecution
"""The ASL actions share the runner: the Action says whether to wait (``.sync``) and how to answer."""
