"""Semantic checks on the model: ``validate(machine) -> list[Issue]``, every issue at once.

Graph rules live here (names, targets, scopes, reachability); field values and expression
variables are checked in ``validate_fields``. Locations come from the model's ``location`` fields;
an issue about one field carries the field's JSON pointer (``lint`` moves it to the field's line).
A name or target left empty means the loader already reported it missing, so it is skipped here.
"""

from __future__ import annotations

import re
from collections import deque

from airflow_cloudflow.diagnostics import ERROR, WARNING, Issue
from airflow_cloudflow.model import (
    Choice, Fail, Map, Parallel, State, StateGraph, StateMachine, Succeed, iter_scopes,
)
from airflow_cloudflow.validation.catalogue import FLOW_NAME_PATTERN, MAX_FLOW_TIMEOUT
from airflow_cloudflow.validation.asl import check_asl_machine, check_asl_state
from airflow_cloudflow.validation.fields import check_state, issue_at

_FLOW_NAME = re.compile(FLOW_NAME_PATTERN)


def validate(machine: StateMachine) -> list[Issue]:
    """All semantic issues of ``machine`` (errors and warnings), in model order."""
    issues: list[Issue] = []
    file = machine.source_file
    asl = machine.dialect == "asl"  # ASL has no Name field: the file stem names the machine
    if machine.name and not asl and not _FLOW_NAME.fullmatch(machine.name):
        issues.append(issue_at(file, machine.graph.location, "/Name", "CF-E300",
                               f"flow Name {machine.name!r} must match {FLOW_NAME_PATTERN} "
                               "(letters, digits, _ and -, starting with a letter or _, 1-128 characters)"))
    if not asl and machine.timeout_seconds is not None and not 0 <= machine.timeout_seconds <= MAX_FLOW_TIMEOUT:
        issues.append(issue_at(file, machine.graph.location, "/Timeout", "CF-E311",
                               f"flow Timeout must be 0-{MAX_FLOW_TIMEOUT} seconds (one year), got {machine.timeout_seconds}"))
    owner = _scope_owners(machine.graph)
    check = check_asl_state if asl else check_state
    _check_scope(machine.graph, file, owner, issues, in_map=False, check=check)
    if asl:
        issues.extend(check_asl_machine(machine))
    return issues


def _scope_owners(graph: StateGraph) -> dict[str, int]:
    """State name → id of the scope declaring it (first declaration wins)."""
    owner: dict[str, int] = {}
    for _, scope in iter_scopes(graph):
        for state in scope.states:
            owner.setdefault(state.name, id(scope))
    return owner


def _check_scope(graph: StateGraph, file: str | None, owner: dict[str, int], issues: list[Issue],
                 in_map: bool, check=check_state) -> None:
    """One scope: duplicates, targets, Next/End, reachability; then recurse into nested scopes."""
    seen: set[str] = set()
    for state in graph.states:
        if state.name and state.name in seen:
            issues.append(issue_at(file, state.location, "/Name", "CF-E200",
                                   f"duplicate state name {state.name!r} in this scope"))
        seen.add(state.name)
    names = set(graph.names)
    if graph.start_at and graph.states and graph.start_at not in names:
        issues.append(issue_at(file, graph.location, "/StartAt", "CF-E201",
                               f"StartAt {graph.start_at!r} names no state of this scope"
                               + _elsewhere(graph.start_at, owner)))
    for state in graph.states:
        _check_transitions(state, file, names, owner, issues)
        issues.extend(check(state, file, in_map))
    _check_reachability(graph, file, issues)
    for state in graph.states:
        if isinstance(state, Parallel):
            for branch in state.branches:
                _check_scope(branch, file, owner, issues, in_map, check)
        elif isinstance(state, Map):
            _check_scope(state.processor, file, owner, issues, in_map=True, check=check)


def _elsewhere(name: str, owner: dict[str, int]) -> str:
    return " (it is declared in another scope)" if name in owner else ""


def _check_transitions(state: State, file: str | None, names: set[str], owner: dict[str, int],
                       issues: list[Issue]) -> None:
    loc = state.location
    targets: list[tuple[str, object, str, str]] = []  # (target, location, pointer suffix, what)
    if isinstance(state, Choice):
        for branch in state.branches:
            targets.append((branch.next, branch.location, "/Next", "branch Next"))
        if state.default:
            targets.append((state.default, loc, "/Default", "Default"))
    elif not isinstance(state, (Succeed, Fail)):
        if state.next and state.end:
            issues.append(issue_at(file, loc, "/End", "CF-E204",
                                   f"state {state.name!r} has both Next and End; give exactly one"))
        elif not state.next and not state.end:
            issues.append(issue_at(file, loc, "", "CF-E205",
                                   f"state {state.name!r} has neither Next nor End; give exactly one"))
        if state.next:
            targets.append((state.next, loc, "/Next", "Next"))
    for rule in getattr(state, "catch", ()):
        targets.append((rule.next, rule.location, "/Next", "Catch Next"))
    for target, where, suffix, what in targets:
        if not target or target in names:
            continue
        if target in owner:
            issues.append(issue_at(file, where, suffix, "CF-E203",
                                   f"{what} {target!r} of state {state.name!r} leaves its scope "
                                   "(it names a state in another Parallel branch, Map processor or the parent)"))
        else:
            issues.append(issue_at(file, where, suffix, "CF-E202",
                                   f"{what} {target!r} of state {state.name!r} names no state"))


def _check_reachability(graph: StateGraph, file: str | None, issues: list[Issue]) -> None:
    """Unreachable states are a warning; a scope with no reachable terminal state is an error."""
    if not graph.start_at or graph.get(graph.start_at) is None:
        return
    reached: set[str] = set()
    queue = deque([graph.start_at])
    while queue:
        name = queue.popleft()
        if name in reached or graph.get(name) is None:
            continue
        reached.add(name)
        queue.extend(graph[name].successors)
    for state in graph.states:
        if state.name and state.name not in reached:
            issues.append(Issue(file, state.location.line, state.location.column, "CF-W001",
                                f"state {state.name!r} is unreachable from StartAt {graph.start_at!r}",
                                WARNING, state.location.pointer))
    broken = any(
        (not graph[n].is_terminal and not graph[n].successors)
        or any(graph.get(t) is None for t in graph[n].successors)
        for n in reached
    )  # a dangling transition is reported on its own; do not add a consequence
    if not broken and not any(graph[name].is_terminal for name in reached):
        issues.append(issue_at(file, graph.location, "/StartAt", "CF-E206",
                               f"no state reachable from StartAt {graph.start_at!r} ends the scope "
                               "(End: true, Succeed or Fail)"))


__all__ = ["validate", "ERROR", "WARNING"]
