"""The interpreter: walks a ``StateMachine`` scope by scope (cloudflow-language §0, §2.2, §3).

Within a state: "``$Input`` = ``InputConstructor($Context, $Global)`` if an InputConstructor is
present. It replaces the state's input entirely"; the state does its work (``$Output``); "The
state output = ``OutputConstructor($Input, $Output, $Context, $Global)`` if present";
"``GlobalConstructor`` runs at the end of the state. Inside it, ``$Output`` is the raw task
output"; "``$Global`` seen in that state's OutputConstructor is the value before". Then Retry and
Catch: "``Retry`` is evaluated first. ``Catch`` is evaluated only after all retries are exhausted".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

from ..exceptions import ErrorCodes, ErrorInfo, FlowError
from ..model import CatchRule, Map, State, StateGraph, StateMachine, Wait
from . import cancellation
from .clock import Clock, SystemClock
from .concurrency import graph_may_block
from .context import ExecutionContext, new_execution_name
from .errors import RetryBudget, first_match
from .evaluation import Compiled, compiled, evaluate, reads_context
from .ports import MapStorage, NoIntegrations, TaskInvoker
from .records import StepResult
from .asl.run import run_asl_state
from .states import HANDLERS, wait_seconds

DistributedRunner = Callable[["Interpreter", Map, Any, ExecutionContext, int], Any]

class StatePlan(NamedTuple):
    """What ``run_state`` needs of a state, looked up once: its handler and compiled constructors."""

    handler: Any
    input: Compiled | None
    output: Compiled | None
    globals: Compiled | None
    retry: tuple
    catch: tuple
    asl: Any = None  # the state's AslIO: run by ``asl_run`` (ASL processing, Retry, Catch)


def plan_state(state: State) -> StatePlan:
    def comp(template: Any) -> Compiled | None:
        return None if template is None else compiled(template)

    if state.asl is not None:
        from .asl.states import ASL_HANDLERS

        return StatePlan(ASL_HANDLERS[type(state)], None, None, None, tuple(getattr(state, "retry", ())),
                         tuple(getattr(state, "catch", ())), state.asl)
    return StatePlan(
        HANDLERS[type(state)],
        comp(state.input_constructor),
        comp(state.output_constructor),
        comp(state.global_constructor),
        tuple(getattr(state, "retry", ())),
        tuple(getattr(state, "catch", ())),
    )


@dataclass(frozen=True)
class ExecutionResult:
    """A finished execution. ``failed_state`` is the top-level state whose failure ended it;
    ``visited`` the top-level states entered, in order (a failed state counts as entered)."""

    status: str
    output: Any = None
    error: ErrorInfo | None = None
    failed_state: str | None = None
    visited: tuple[str, ...] = ()

    @property
    def succeeded(self) -> bool:
        return self.status == "Succeeded"

    def as_json(self) -> dict[str, Any]:
        """The CLI's ``--json`` object: ``{"status", "output", "error"}``."""
        return {
            "status": self.status,
            "output": self.output,
            "error": self.error.as_dict() if self.error else None,
        }


class Interpreter:
    """Runs one machine. ``integrations`` (a ``ports.TaskInvoker``) answers Task calls, ``stores``
    (a ``ports.MapStorage``) serves ItemReader/ResultWriter, ``clock`` every wait. Without
    ``integrations`` every Task fails with ``FnF.ActionNotSupported``: the CLI, the operators and
    sub-flows hand in ``integrations.catalogue.default_registry()`` (or mocks)."""

    def __init__(
        self,
        machine: StateMachine,
        *,
        integrations: TaskInvoker | None = None,
        stores: MapStorage | None = None,
        clock: Clock | None = None,
    ):
        self.machine = machine
        self.integrations: TaskInvoker = integrations if integrations is not None else NoIntegrations()
        self.stores = stores
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._blocking: dict[int, bool] = {}
        self._plans: dict[int, tuple[State, StatePlan]] = {}
        # None: fanout.run_distributed / asl_map.run_distributed (the Airflow engine plugs in its own)
        self.distributed_runner: DistributedRunner | None = None

    # ------------------------------------------------------------------ executions

    @property
    def store_scheme(self) -> str:
        """CloudFlow sources are ``oss``; ASL ones ``s3``."""
        return "s3" if self.machine.dialect == "asl" else "oss"

    def new_context(self, input: Any, execution_name: str | None = None) -> ExecutionContext:
        """The context of a new top-level execution (``$Context.Execution``, ``$Global`` = {})."""
        return ExecutionContext(
            execution_name or new_execution_name(),
            input,
            clock=self.clock,
            flow_name=self.machine.name,
            timeout_seconds=self.machine.timeout_seconds,
        )

    def execute(self, input: Any, *, execution_name: str | None = None, redrive_count: int = 0) -> ExecutionResult:
        """Run the whole machine on ``input``. "Execution output … is the output of the last
        top-level state that ended the flow". ``redrive_count``: this execution redrives an earlier one."""
        ctx = self.new_context(input, execution_name)
        ctx.redrive_count = redrive_count
        graph = self.machine.graph
        visited: list[str] = []
        state = graph[graph.start_at]
        value = input
        try:
            while True:
                visited.append(state.name)
                step = self.run_state(state, value, ctx)
                value = step.output
                if step.next is None:
                    return ExecutionResult("Succeeded", value, None, None, tuple(visited))
                state = graph[step.next]
        except FlowError as err:
            return ExecutionResult("Failed", None, ErrorInfo(err.code, err.detail), state.name, tuple(visited))

    def run_graph(self, graph: StateGraph, input: Any, ctx: ExecutionContext) -> Any:
        """Run one scope from ``StartAt`` until a state ends it; return that state's output.
        "``End: true`` ends the current scope"."""
        state = graph[graph.start_at]
        value = input
        token = cancellation.current()
        while True:
            token.check()  # a sibling branch failed: this one stops (runtime/cancellation.py)
            step = self.run_state(state, value, ctx)
            if step.next is None:
                return step.output
            value = step.output
            state = graph[step.next]

    def may_block(self, graph: StateGraph) -> bool:
        """Whether a scope may wait (a Wait, or a Task whose integration may block), memoised:
        decides a thread pool vs a plain loop."""
        key = id(graph)
        found = self._blocking.get(key)
        if found is None:
            found = self._blocking[key] = graph_may_block(graph, getattr(self.integrations, "may_block", None))
        return found

    # ------------------------------------------------------------------ one state

    def plan(self, state: State) -> StatePlan:
        """The state's plan (memoised per state object)."""
        found = self._plans.get(id(state))
        if found is None or found[0] is not state:
            found = self._plans[id(state)] = (state, plan_state(state))
        return found[1]

    def run_state(self, state: State, input: Any, ctx: ExecutionContext) -> StepResult:
        """Run one state with its Retry/Catch. Raises ``FlowError`` (with ``state`` set) when
        the failure is not caught."""
        ctx.enter_state(state.name, self.machine.dialect)
        plan = self.plan(state)
        if plan.asl is not None:
            return run_asl_state(self, state, plan, input, ctx)
        value = input
        try:
            if ctx.deadline is not None:
                ctx.check_deadline()
            if plan.input is not None:
                value = self._construct_input(plan.input, state, input, ctx, 0)
            raw, next_name = plan.handler(self, state, value, ctx, 0)
            if plan.output is None and plan.globals is None:
                return StepResult(raw, next_name)
            return StepResult(self._finish(plan, state, value, raw, ctx, 0), next_name)
        except FlowError as err:
            return self._recover(plan, state, input, value, ctx, err)

    # ------------------------------------------------------------------ piecewise (the Airflow layer)

    def run_attempt(self, state: State, input: Any, ctx: ExecutionContext, retry_count: int = 0) -> StepResult:
        """One attempt of a CloudFlow state, without its Retry and Catch (the caller owns them):
        the Airflow engine runs a Task whose single Retry rule maps onto Airflow's own retries, and
        ``retry_count`` (``$Context.Current.RetryCount``) is then the task's try number minus one."""
        plan = self.plan(state)
        if plan.asl is not None:
            raise ValueError("run_attempt is for CloudFlow states; ASL states run through run_state")
        try:
            if ctx.deadline is not None:
                ctx.check_deadline()
            value = input
            if plan.input is not None:
                value = self._construct_input(plan.input, state, input, ctx, retry_count)
            raw, next_name = plan.handler(self, state, value, ctx, retry_count)
            return StepResult(self._finish(plan, state, value, raw, ctx, retry_count), next_name)
        except FlowError as err:
            if err.state is None:
                err.state = state.name
            raise

    def construct_input(self, state: State, input: Any, ctx: ExecutionContext) -> Any:
        """``$Input`` of ``state``: its InputConstructor applied to ``input`` (or ``input`` itself)."""
        plan = self.plan(state)
        return input if plan.input is None else self._construct_input(plan.input, state, input, ctx, 0)

    def wait_seconds(self, state: Wait, value: Any, ctx: ExecutionContext) -> float:
        """A Wait state's ``Seconds`` (or ``Seconds.$``) evaluated against its ``$Input``; for a
        state carrying ``asl``, ``value`` is its raw input (InputPath is applied here)."""
        if state.asl is not None:
            from .asl.states import piecewise_wait_seconds

            return piecewise_wait_seconds(state, value, ctx)
        return wait_seconds(state, value, ctx)

    def using(self, *, distributed_runner: DistributedRunner | None = None) -> "Interpreter":
        """A copy sharing machine, integrations, stores and clock, with the distributed-Map runner
        replaced: ``runner(interpreter, map_state, map_input, ctx, retry_count) -> $Output``. The
        Airflow engine uses it to feed children run elsewhere through ``run_state`` (so the Map's
        own constructors, Retry and Catch apply exactly as here)."""
        twin = Interpreter(self.machine, integrations=self.integrations, stores=self.stores, clock=self.clock)
        twin._plans, twin._blocking = self._plans, self._blocking
        if distributed_runner is not None:
            twin.distributed_runner = distributed_runner
        return twin

    def finish_state(self, state: State, value: Any, raw_output: Any, ctx: ExecutionContext) -> Any:
        """The state's output from its ``$Input`` and ``$Output``: OutputConstructor, then
        GlobalConstructor (merged into ``ctx``), as ``run_state`` does after the state's work. A
        state carrying ``asl`` gets its ASL output processing (``value`` is then its raw input)."""
        if state.asl is not None:
            from .asl.run import piecewise_finish

            return piecewise_finish(state, value, raw_output, ctx)
        return self._finish(self.plan(state), state, value, raw_output, ctx, 0)

    def catch(self, state: State, value: Any, error: FlowError, ctx: ExecutionContext) -> StepResult | None:
        """Where ``state``'s Catch sends ``error`` (with the next state's input), or None when no
        Catch rule matches (retries are the caller's business)."""
        plan = self.plan(state)
        found = first_match(plan.catch, error.code) if plan.catch else None
        if found is None or error.code == ErrorCodes.TIMEOUT:
            return None
        return StepResult(self._catch_output(found[1], state, value, error, ctx, 0), found[1].next)

    def _recover(
        self, plan: StatePlan, state: State, input: Any, value: Any, ctx: ExecutionContext, err: FlowError
    ) -> StepResult:
        """Retry (re-running the whole state) while a rule allows, then Catch, else re-raise.
        ``$Context.Current.RetryCount`` is the number of retries made so far."""
        budget = RetryBudget(plan.retry) if plan.retry else None
        retry_count = 0
        while True:
            if err.state is None:
                err.state = state.name
            if err.code == ErrorCodes.TIMEOUT:
                raise err  # the execution is over: neither retried nor caught
            delay = budget.next_delay(err.code) if budget is not None else None
            if delay is None:
                break
            self._sleep_within_deadline(delay, ctx, state)
            retry_count = budget.total
            ctx.enter_state(state.name, self.machine.dialect)  # a retry is a transition too
            value = input
            try:
                if ctx.deadline is not None:
                    ctx.check_deadline()
                if plan.input is not None:
                    value = self._construct_input(plan.input, state, input, ctx, retry_count)
                raw, next_name = plan.handler(self, state, value, ctx, retry_count)
                return StepResult(self._finish(plan, state, value, raw, ctx, retry_count), next_name)
            except FlowError as again:
                err = again
        found = first_match(plan.catch, err.code) if plan.catch else None
        if found is None:
            raise err
        rule = found[1]
        return StepResult(self._catch_output(rule, state, value, err, ctx, retry_count), rule.next)

    def _construct_input(self, template: Compiled, state: State, raw: Any, ctx: ExecutionContext, retry_count: int) -> Any:
        """``$Input`` inside an InputConstructor is the raw input the state received."""
        variables = {"Input": raw, "Global": ctx.globals}
        if template.context:
            variables["Context"] = ctx.current(state.name, raw, retry_count)
        return template.run(variables)

    def _finish(self, plan: StatePlan, state: State, value: Any, raw: Any, ctx: ExecutionContext, retry_count: int) -> Any:
        """Apply OutputConstructor then GlobalConstructor (the latter sees the raw ``$Output``)."""
        oc, gc = plan.output, plan.globals
        output = raw
        globals_before = ctx.globals
        if oc is not None:
            variables = {"Input": value, "Output": raw, "Global": globals_before}
            if oc.context:
                variables["Context"] = ctx.current(state.name, value, retry_count, Output=raw)
            output = oc.run(variables)
        if gc is not None:
            variables = {"Input": value, "Output": raw, "Global": globals_before}
            if gc.context:
                variables["Context"] = ctx.current(state.name, value, retry_count, Output=raw)
            ctx.merge_globals(gc.run(variables))
        return output

    def _catch_output(
        self, rule: CatchRule, state: State, value: Any, err: FlowError, ctx: ExecutionContext, retry_count: int
    ) -> Any:
        """"the catcher's ``OutputConstructor`` builds the input of the Catch's ``Next`` state …
        ``$Context.Current.Error.Code`` / ``.Detail`` are available there". Without one, the
        ``Next`` state receives ``{"Code", "Detail"}`` (docs/semantics.md)."""
        error = err.as_dict()
        if rule.output_constructor is None:
            return error
        variables = {"Input": value, "Global": ctx.globals}
        if reads_context(rule.output_constructor):
            variables["Context"] = ctx.current(state.name, value, retry_count, Error=error)
        return evaluate(rule.output_constructor, variables)

    def _sleep_within_deadline(self, delay: float, ctx: ExecutionContext, state: State) -> None:
        left = ctx.seconds_left()
        if left is not None and delay > left:
            ctx.clock.sleep(max(left, 0.0))
            raise FlowError(ErrorCodes.TIMEOUT, "the execution exceeded its Timeout", state=state.name)
        ctx.clock.sleep(delay)
