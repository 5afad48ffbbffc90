"""Model → plan: the Airflow shape of a flow, decided without importing Airflow.

The builder (``providers/builder.py``) only instantiates operators and wires dependencies from these
records; every decision lives here, so it is unit-testable in milliseconds. Mapping (see
``docs/airflow.md``):

* a top-level Pass/Task/Choice/Wait/Succeed/Fail/inline Map → one ``state`` step;
* a strongly connected region (a Choice looping back) → one ``region`` step interpreted in-process;
* a Parallel without Retry/Catch → a ``parallel`` step (InputConstructor), one task group per branch
  (planned recursively), and a ``join`` step assembling ``{"Branch0": …}``; with Retry/Catch the
  whole Parallel is one interpreted ``state`` step (Airflow cannot re-run a group on retry), and so
  is an ASL Parallel (``state.asl``: its output is an array and ResultPath works on its raw input),
  and a Parallel with a branch that waits or loops (``waits_or_loops``: a failing branch must stop
  it at once, which only the in-process cancellation can do);
* a distributed Map → ``map_read`` (items → shards) → ``map_process`` (mapped over shards) →
  ``map_write`` (``all_done``: tolerance, ResultWriter, next state);
* one ``finish`` step, the only leaf, returns the execution output or fails the run.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from ..model import Map, Parallel, RetryRule, State, StateGraph, StateMachine, Task, Wait
from .deferred import deferrable

STATE = "state"
REGION = "region"
PARALLEL = "parallel"
JOIN = "join"
MAP_READ = "map_read"
MAP_PROCESS = "map_process"
MAP_WRITE = "map_write"
FINISH = "finish"

ALL_SUCCESS = "all_success"
ALL_DONE = "all_done"
JOIN_RULE = "none_failed_min_one_success"
"""Runs after whichever branch ran: skipped branches do not block it, a failure does."""

ANY = "*"
"""In ``Step.inputs``: take the upstream step's output whatever state it names as next."""


@dataclass(frozen=True)
class Step:
    """One Airflow task to build.

    ``inputs`` says where the step's input comes from at run time: pairs of (upstream task id, the
    state name that upstream must have chosen as its next state — or ``ANY``). Exactly one of them
    ran and chose this step on any executed path, because every state runs at most once per DAG run
    outside cyclic regions.
    """

    task_id: str
    kind: str
    state: str | None
    scope: tuple[str, ...] = ()
    upstream: tuple[str, ...] = ()
    inputs: tuple[tuple[str, str], ...] = ()
    trigger_rule: str = ALL_SUCCESS
    group: str | None = None
    region_states: tuple[str, ...] = ()
    successors: dict[str, str] = field(default_factory=dict)  # next state name → task id
    branch_terminals: tuple[tuple[str, ...], ...] = ()  # JOIN: per branch, its terminal task ids
    airflow_retry: RetryRule | None = None
    """STATE: the Task's Retry rule, carried out by Airflow's own retries (``airflow_retry_rule``)."""

    @property
    def is_mapped(self) -> bool:
        return self.kind == MAP_PROCESS


@dataclass(frozen=True)
class Plan:
    """The whole DAG: steps in a topological order, and the id of the finishing step."""

    dag_id: str
    steps: tuple[Step, ...]
    finish: str
    terminals: tuple[str, ...]

    def step(self, task_id: str) -> Step:
        for s in self.steps:
            if s.task_id == task_id:
                return s
        raise KeyError(task_id)


# --------------------------------------------------------------------------- ids


_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def sanitize_id(name: str) -> str:
    """A deterministic Airflow id for any state name (Chinese, spaces, dots…).

    Safe names are kept as they are; anything else becomes ``_`` with a short hash of the original
    appended, so two names that sanitize alike never collide.
    """
    safe = _UNSAFE.sub("_", name).strip("_") or "state"
    if safe != name or "__" in safe:
        safe = f"{safe.replace('__', '_')[:200]}_{hashlib.sha1(name.encode()).hexdigest()[:6]}"
    return safe


def dag_id_for(machine: StateMachine) -> str:
    """"dag_id from the flow Name" (flow names are already ``[A-Za-z0-9_-]``), unless the loader
    set one (``machine.dag_id``: a sidecar ``dag_id:`` or a path-derived id)."""
    return machine.dag_id or sanitize_id(machine.name)


# --------------------------------------------------------------------------- graph helpers


def _edges(graph: StateGraph) -> dict[str, tuple[str, ...]]:
    return {s.name: tuple(n for n in s.successors if graph.get(n) is not None) for s in graph.states}


def strongly_connected(graph: StateGraph) -> list[frozenset[str]]:
    """Tarjan's algorithm (iterative): the cyclic regions of a scope (size > 1, or a self loop)."""
    edges = _edges(graph)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    regions: list[frozenset[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for succ in it:
                if succ not in index:
                    index[succ] = low[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(edges[succ])))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                if len(members) > 1 or node in edges[node]:
                    regions.append(frozenset(members))
    return regions


def reachable(graph: StateGraph) -> list[str]:
    """States reachable from StartAt, in a stable depth-first order."""
    edges = _edges(graph)
    seen: list[str] = []
    todo = [graph.start_at] if graph.get(graph.start_at) else []
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.append(name)
        todo.extend(reversed(edges[name]))
    return seen


# --------------------------------------------------------------------------- planning


def waits_or_loops(graph: StateGraph) -> bool:
    """Whether a scope holds a Wait or a loop, in itself or in a nested Parallel or inline Map: such a
    branch may run for long (a polling loop, for ever), so a sibling's failure must stop it."""
    if strongly_connected(graph):
        return True
    for state in graph.states:
        if isinstance(state, Wait):
            return True
        if isinstance(state, Parallel) and any(waits_or_loops(b) for b in state.branches):
            return True
        if isinstance(state, Map) and not state.distributed and waits_or_loops(state.processor):
            return True
    return False


def branches_as_groups(state: State) -> bool:
    """A Parallel planned as one task group per branch (else it is one interpreted ``state`` step)."""
    return (isinstance(state, Parallel) and not state.retry and not state.catch and state.asl is None
            and not any(waits_or_loops(b) for b in state.branches))


class _Planner:
    def __init__(self, machine: StateMachine):
        self.machine = machine
        self.steps: list[Step] = []
        self.used_ids: set[str] = set()

    def unique(self, wanted: str) -> str:
        tid = wanted
        n = 2
        while tid in self.used_ids:
            tid = f"{wanted}_{n}"
            n += 1
        self.used_ids.add(tid)
        return tid

    def plan_scope(
        self, graph: StateGraph, *, scope: tuple[str, ...], group: str | None, entry_from: tuple[str, ...]
    ) -> list[str]:
        """Plan one scope; returns the task ids whose completion ends the scope (its terminals).

        ``entry_from`` are the task ids that hand the scope its input (none at top level: the
        first step reads the DAG run conf).
        """
        names = reachable(graph)
        region_of: dict[str, frozenset[str]] = {}
        for region in strongly_connected(graph):
            for name in region:
                region_of[name] = region
        # unit = a state, or a whole region; its task ids
        entry_id: dict[str, str] = {}  # state name → task id that receives control for it
        exit_id: dict[str, str] = {}  # state name → task id that pushes its output/next
        map_process: dict[str, str] = {}  # distributed Map name → its mapped task id
        units: list[tuple[str, tuple[State, ...]]] = []
        done_regions: set[frozenset[str]] = set()
        region_ids: set[str] = set()  # a region may be one state looping to itself (a Catch → itself)
        for name in names:
            state = graph[name]
            region = region_of.get(name)
            if region is not None:
                if region in done_regions:
                    continue
                done_regions.add(region)
                members = tuple(graph[n] for n in names if n in region)
                tid = self.unique("region_" + sanitize_id(members[0].name))
                region_ids.add(tid)
                units.append((tid, members))
                for m in members:
                    entry_id[m.name] = exit_id[m.name] = tid
                continue
            base = sanitize_id(state.name)
            if isinstance(state, Map) and state.distributed:
                read, process, write = self.unique(base), self.unique(base + "__process"), self.unique(base + "__results")
                entry_id[name], exit_id[name], map_process[name] = read, write, process
                units.append((read, (state,)))
            elif branches_as_groups(state):
                start, join = self.unique(base), self.unique(base + "__join")
                entry_id[name], exit_id[name] = start, join
                units.append((start, (state,)))
            else:
                tid = self.unique(base)
                entry_id[name] = exit_id[name] = tid
                units.append((tid, (state,)))

        # who hands control to whom: (upstream task id, state name it names as next)
        incoming: dict[str, list[tuple[str, str]]] = {tid: [] for tid, _ in units}
        start_tid = entry_id.get(graph.start_at)
        for tid, members in units:
            member_names = {m.name for m in members}
            for m in members:
                for succ in m.successors:
                    if succ in member_names or succ not in entry_id:
                        continue
                    target = entry_id[succ]
                    pair = (exit_id[m.name], succ)
                    if pair not in incoming[target]:
                        incoming[target].append(pair)

        terminals: list[str] = []
        for tid, members in units:
            state = members[0]
            inputs = list(incoming[tid])
            if tid == start_tid:
                inputs = [(e, ANY) for e in entry_from] + inputs
            upstream = tuple(dict.fromkeys(u for u, _ in inputs))
            trigger = JOIN_RULE if len(upstream) > 1 else ALL_SUCCESS
            successors = {
                succ: entry_id[succ]
                for m in members
                for succ in m.successors
                if succ in entry_id and entry_id[succ] != tid
            }
            ends_scope = any(m.is_terminal for m in members)
            if tid in region_ids:
                self.steps.append(Step(tid, REGION, state.name, scope, upstream, tuple(inputs), trigger, group,
                                       region_states=tuple(m.name for m in members), successors=successors))
            elif isinstance(state, Map) and state.distributed:
                read, process, write = tid, map_process[state.name], exit_id[state.name]
                self.steps.append(Step(read, MAP_READ, state.name, scope, upstream, tuple(inputs), trigger, group))
                self.steps.append(Step(process, MAP_PROCESS, state.name, scope, (read,), ((read, ANY),),
                                       ALL_SUCCESS, group))
                self.steps.append(Step(write, MAP_WRITE, state.name, scope, (read, process), ((read, ANY),),
                                       ALL_DONE, group, successors=successors))
            elif branches_as_groups(state):
                start, join = tid, exit_id[state.name]
                self.steps.append(Step(start, PARALLEL, state.name, scope, upstream, tuple(inputs), trigger, group))
                branch_terminals = []
                for i, branch in enumerate(state.branches):
                    branch_group = f"{start}__branch{i}"
                    branch_terminals.append(tuple(self.plan_scope(
                        branch, scope=scope + (state.name, f"Branch{i}"), group=branch_group, entry_from=(start,),
                    )))
                join_up = tuple(t for ts in branch_terminals for t in ts) or (start,)
                self.steps.append(Step(join, JOIN, state.name, scope, join_up, ((start, ANY),), JOIN_RULE, group,
                                       successors=successors, branch_terminals=tuple(branch_terminals)))
            else:
                self.steps.append(Step(tid, STATE, state.name, scope, upstream, tuple(inputs), trigger, group,
                                       successors=successors, airflow_retry=airflow_retry_rule(state)))
            if ends_scope:
                terminals.append(exit_id[state.name])
        return terminals


def airflow_retry_rule(state: State) -> RetryRule | None:
    """The Retry rule that Airflow's own retries carry out for this state, or None (in-process).

    They fit a CloudFlow Task with exactly one Retry rule and no Catch: one rule needs one counter,
    which is the task's try number (``$Context.Current.RetryCount`` = try number − 1), and with no
    Catch a final failure simply fails the task. The waits then free the worker slot, and each
    attempt is a try in the UI. Every other Retry — several rules with their own counters, a Catch
    to route to after the last retry, ASL's jitter, a sub-flow or callback Task (it retries with a
    new child run or token, ``planning/deferred.py``) — runs in-process, exactly as the interpreter.
    """
    if isinstance(state, Task) and len(state.retry) == 1 and not state.catch and state.asl is None:
        return None if deferrable(state) else state.retry[0]
    return None


def plan(machine: StateMachine) -> Plan:
    """Turn a (valid) state machine into the plan the DAG builder wires up."""
    planner = _Planner(machine)
    terminals = planner.plan_scope(machine.graph, scope=(), group=None, entry_from=())
    finish = planner.unique("finish")
    planner.steps.append(Step(finish, FINISH, None, (), tuple(terminals), tuple((t, ANY) for t in terminals), ALL_DONE))
    return Plan(dag_id_for(machine), tuple(planner.steps), finish, tuple(terminals))


@dataclass(frozen=True)
class ChildLocator:
    """Flow name → (dag_id, finish task id) of the DAG the loader builds from that flow."""

    finder: Any  # integrations.subflow.FlowFinder

    def __call__(self, flow_name: str) -> tuple[str, str]:
        child = plan(self.finder.find(flow_name))
        return child.dag_id, child.finish
