"""Calling a Task through the interpreter's ``TaskInvoker`` (``ports.py``), for both dialects.

A runner's own exception (an integration bug, a client library error) fails the Task with
``FnF.TaskFailed``; "``0`` means never time out", else the call runs in a worker thread and the
state stops waiting after its ``Timeout`` (``FnF.TaskTimeout``, or the execution's ``Timeout``).
"""

from __future__ import annotations

import contextvars
import threading
from typing import TYPE_CHECKING, Any

from ..exceptions import ErrorCodes, FlowError
from . import cancellation
from .context import ExecutionContext
from .ports import TaskCall

if TYPE_CHECKING:  # pragma: no cover
    from .interpreter import Interpreter

CUSTOM_CALLBACK = "WaitForCustomCallback"
"""The TaskMode that "pauses until someone calls ReportTaskSucceeded/ReportTaskFailed" (§4.1)."""


def _invoke(interp: "Interpreter", call: TaskCall) -> Any:
    """The integration's answer; a call that may block is given up when its branch is stopped."""
    try:
        may_block = getattr(interp.integrations, "may_block", None)
        if cancellation.current() is not cancellation.ROOT and (may_block is None or may_block(call.action)):
            return cancellation.interruptible(lambda: interp.integrations.invoke(call), f"task-{call.state_name}")
        return interp.integrations.invoke(call)
    except FlowError:
        raise
    except Exception as exc:  # an integration bug or a client library error: a Task failure
        raise FlowError(ErrorCodes.TASK_FAILED, f"{type(exc).__name__}: {exc}", state=call.state_name) from exc


def _invoke_with_timeout(interp: "Interpreter", call: TaskCall, ctx: ExecutionContext, timeout: float, code: str) -> Any:
    """Run the call in a daemon worker thread and stop waiting after ``timeout`` seconds."""
    done = threading.Event()
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["value"] = _invoke(interp, call)
        except BaseException as exc:  # noqa: BLE001 - handed back to the waiting thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=contextvars.copy_context().run, args=(work,), name=f"task-{call.state_name}",
                     daemon=True).start()
    if not ctx.clock.wait(done, timeout):
        what = "Task" if code == ErrorCodes.TASK_TIMEOUT else "execution"
        raise FlowError(code, f"the {what} exceeded its Timeout of {timeout:g}s", state=call.state_name)
    if "error" in box:
        raise box["error"]
    return box["value"]
