"""Semantic checks specific to ASL machines (the graph rules are shared, in ``validate``).

What CreateStateMachine rejects beyond the builder's per-field checks: a ``Label`` used twice
("unique within the definition", asl-distributed-map.md §2.7), a Task ``Resource`` that is not an
ARN, a literal ``Timestamp`` that is not RFC 3339.
"""

from __future__ import annotations

from airflow_cloudflow.diagnostics import Issue
from airflow_cloudflow.expressions.asl.choice import parse_timestamp
from airflow_cloudflow.model import Literal, Map, State, StateMachine, Task, Wait, iter_scopes
from airflow_cloudflow.validation.fields import issue_at


def check_asl_state(state: State, file: str | None, in_map: bool) -> list[Issue]:
    """Per-state checks of an ASL state (the ASL counterpart of ``validate_fields.check_state``)."""
    issues: list[Issue] = []
    if isinstance(state, Task) and state.action and not state.action.startswith("arn:"):
        issues.append(issue_at(file, state.location, "/Resource", "ASL-E319",
                               f"Task Resource {state.action!r} must be an ARN (arn:aws:…)"))
    if isinstance(state, Wait) and isinstance(state.timestamp, Literal):
        if parse_timestamp(state.timestamp.value) is None:
            issues.append(issue_at(file, state.location, "/Timestamp", "ASL-E320",
                                   f"Timestamp {state.timestamp.value!r} is not an RFC 3339 timestamp"))
    return issues


def check_asl_machine(machine: StateMachine) -> list[Issue]:
    """Whole-definition ASL checks: Map labels are unique."""
    issues: list[Issue] = []
    seen: set[str] = set()
    for _, scope in iter_scopes(machine.graph):
        for state in scope.states:
            if isinstance(state, Map) and state.asl_map is not None and state.asl_map.label:
                label = state.asl_map.label
                if label in seen:
                    issues.append(issue_at(machine.source_file, state.location, "/Label", "ASL-E318",
                                           f"Map Label {label!r} is used by another Map state"))
                seen.add(label)
    return issues
