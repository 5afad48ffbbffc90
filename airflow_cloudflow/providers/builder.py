"""Plan → DAG: instantiate one operator per planned step and wire the dependencies. No decisions here.

``build_dag`` makes a whole DAG; ``add_flow`` adds a flow's tasks to a DAG (or TaskGroup) the user
already has, the way astronomer-cosmos offers both (one converter behind both).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import DAG, Param, TaskGroup, XComArg

from ..model import Map, StateGraph, StateMachine
from ..planning.plan import (
    FINISH,
    JOIN,
    MAP_PROCESS,
    MAP_READ,
    MAP_WRITE,
    PARALLEL,
    REGION,
    Plan,
    Step,
    plan,
)
from ..planning.sizing import split_concurrency
from ..runtime.fanout import DISTRIBUTED_MAX_CONCURRENCY
from ..planning.datasets import step_data
from .assets import airflow_schedule, task_assets
from .operators import (
    FinishOperator,
    MapReaderOperator,
    MapShardOperator,
    MapWriterOperator,
    ParallelJoinOperator,
    ParallelStartOperator,
    RegionOperator,
    StateOperator,
)
from .options import DagOptions
from .retry import CloudFlowRetryPolicy

DEFAULT_START = datetime(2024, 1, 1, tzinfo=timezone.utc)
_OPERATORS = {
    "state": StateOperator,
    REGION: RegionOperator,
    PARALLEL: ParallelStartOperator,
    JOIN: ParallelJoinOperator,
    MAP_READ: MapReaderOperator,
    MAP_WRITE: MapWriterOperator,
}


def _scope_graph(machine: StateMachine, scope: tuple[str, ...]) -> StateGraph:
    """The StateGraph a step's state lives in (``scope`` = (Parallel name, "BranchN", …))."""
    graph = machine.graph
    for parallel_name, branch in zip(scope[::2], scope[1::2]):
        graph = graph[parallel_name].branches[int(branch.removeprefix("Branch"))]
    return graph


def doc_md(machine: StateMachine, the_plan: Plan, options: DagOptions) -> str:
    """"The DAG's docs show the definition and the compiled plan"."""
    lines = [f"# {machine.name}", ""]
    if machine.description:
        lines += [machine.description, ""]
    if options.source_path:
        lines += [f"Definition: `{options.source_path}`", ""]
    lines += ["## Compiled plan", "", "| task | kind | state | after |", "|---|---|---|---|"]
    for step in the_plan.steps:
        lines.append(f"| `{step.task_id}` | {step.kind} | {step.state or ''} | {', '.join(step.upstream)} |")
    if machine.source_text:
        fence = "yaml" if machine.dialect == "cloudflow" else "json"
        lines += ["", "## Definition", "", f"```{fence}", machine.source_text.rstrip(), "```"]
    return "\n".join(lines)


def params_for(options: DagOptions) -> dict[str, Param]:
    """The trigger form's fields: the sidecar's ``default_input`` values, typed and described by
    its ``input_schema`` properties where it has them. A property without a default starts empty
    (``null`` allowed), unless it is ``required``: then the form asks for it."""
    properties = (options.input_schema or {}).get("properties") or {}
    required = set((options.input_schema or {}).get("required") or ())
    params = {key: Param(value) for key, value in options.default_input.items() if key not in properties}
    for key, schema in properties.items():
        schema = dict(schema)
        default = options.default_input.get(key, schema.pop("default", None))
        schema.pop("default", None)
        if default is None and key in required:
            params[key] = Param(**schema)  # the form asks for it (Airflow: a schedule needs a default)
            continue
        if default is None and "type" in schema:
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            schema["type"] = list(dict.fromkeys([*types, "null"]))
        params[key] = Param(default, **schema)
    return params


def add_flow(machine: StateMachine, options: DagOptions, the_plan: Plan | None = None) -> dict[str, object]:
    """Create the flow's tasks inside the DAG/TaskGroup context currently open; returns them by id."""
    the_plan = the_plan or plan(machine)
    tasks: dict[str, object] = {}
    groups: dict[str, TaskGroup] = {}
    mapped = {s.task_id for s in the_plan.steps if s.kind == MAP_PROCESS}
    common = {"retries": options.retries, "pool": options.pool} if options.pool else {"retries": options.retries}

    group_of_step = {s.task_id: s.group for s in the_plan.steps}

    def group_for(group_id: str | None):
        """A branch group ``<parallel>__branch<i>`` nests in the group its Parallel's task is in."""
        if group_id is None:
            return None
        if group_id not in groups:
            parent = group_for(group_of_step.get(group_id.rsplit("__branch", 1)[0]))
            groups[group_id] = TaskGroup(group_id=group_id, prefix_group_id=False, parent_group=parent)
        return groups[group_id]

    def map_group(step: Step):
        """A distributed Map's three tasks (reader, shards, ResultWriter) in one group shown as the
        state's name; its id ``<reader>__map`` keeps the task ids (and every XCom lookup) as they are."""
        reader = step.task_id if step.kind == MAP_READ else step.upstream[0]
        group_id = f"{reader}__map"
        if group_id not in groups:
            groups[group_id] = TaskGroup(group_id=group_id, prefix_group_id=False, group_display_name=step.state,
                                         tooltip=f"distributed Map {step.state}", parent_group=group_for(step.group))
        return groups[group_id]

    for step in the_plan.steps:
        group = map_group(step) if step.kind in (MAP_READ, MAP_PROCESS, MAP_WRITE) else group_for(step.group)
        kwargs = {"task_id": step.task_id, "trigger_rule": step.trigger_rule, "task_group": group, **common}
        if step.kind == FINISH:
            all_steps = tuple(s.task_id for s in the_plan.steps if s.task_id not in mapped and s.kind != FINISH)
            tasks[step.task_id] = FinishOperator(terminals=the_plan.terminals, all_steps=all_steps, **kwargs)
            continue
        scope_graph = _scope_graph(machine, step.scope)
        flow = {"machine": machine, "options": options, "step": step, "scope_graph": scope_graph}
        kwargs.update(task_assets(step_data(machine, step, scope_graph), the_plan.dag_id, step.task_id))
        if step.kind == MAP_PROCESS:
            state = scope_graph[step.state]
            assert isinstance(state, Map)
            instances, threads = split_concurrency(state.max_concurrency, DISTRIBUTED_MAX_CONCURRENCY)
            reader = tasks[step.upstream[0]]
            tasks[step.task_id] = MapShardOperator.partial(
                **flow, **{**kwargs, "retries": options.shard_retries},
                retry_delay=timedelta(seconds=options.shard_retry_delay),
                in_shard_concurrency=threads,
                max_active_tis_per_dagrun=instances,
                map_index_template="{{ cloudflow_shard_label }}",
            ).expand(shard=XComArg(reader))
            continue
        if step.airflow_retry is not None:
            kwargs.update(retries=step.airflow_retry.max_attempts, retry_policy=CloudFlowRetryPolicy(step.airflow_retry))
        tasks[step.task_id] = _OPERATORS.get(step.kind, StateOperator)(**flow, **kwargs)

    for step in the_plan.steps:
        for upstream in step.upstream:
            if step.kind == MAP_PROCESS:
                continue  # .expand over the reader's XCom already wires it
            tasks[upstream] >> tasks[step.task_id]
    return tasks


def build_dag(machine: StateMachine, options: DagOptions | None = None) -> DAG:
    """One definition → one DAG whose graph view mirrors the state machine."""
    options = options or DagOptions()
    the_plan = plan(machine)
    params = params_for(options)
    default_args = {"owner": options.owner} if options.owner else {}
    tags = list(dict.fromkeys(("cloudflow" if machine.dialect == "cloudflow" else "stepfunctions", *options.tags)))
    with DAG(
        dag_id=the_plan.dag_id,
        description=(machine.description or f"{machine.dialect} flow {machine.name}")[:250],
        schedule=airflow_schedule(options.schedule),
        start_date=options.start_date or DEFAULT_START,
        catchup=options.catchup,
        tags=tags,
        params=params,
        default_args=default_args,
        doc_md=doc_md(machine, the_plan, options),
        dagrun_timeout=timedelta(seconds=machine.timeout_seconds) if machine.timeout_seconds else None,
        render_template_as_native_obj=False,
    ) as dag:
        add_flow(machine, options, the_plan)
    return dag
