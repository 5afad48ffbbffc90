"""SIGTERM and SIGINT end ``airflow-cloudflow run`` promptly, in both engines.

Both signals raise ``Interrupted`` in the main thread wherever it waits; on its way out every
Parallel and inline Map it passes cancels the branches still running (``runtime/cancellation.py``),
so no worker thread keeps the process alive. The command then reports the run as aborted and exits
with ``128 + signal number`` (130 for SIGINT, 143 for SIGTERM), as shells do.
"""

from __future__ import annotations

import signal
from contextlib import contextmanager
from typing import Iterator


class Interrupted(KeyboardInterrupt):
    """The run got SIGTERM or SIGINT (``signum``)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


@contextmanager
def interrupted_by_signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGINT raise ``Interrupted`` (the previous handlers come back)."""

    def stop(signum: int, frame) -> None:
        raise Interrupted(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def report_interrupted(exc: KeyboardInterrupt, as_json: bool) -> int:
    """Print the aborted run (``--json``: ``{"status": "Aborted", …}``) and return the exit code."""
    import json
    import sys

    signum = getattr(exc, "signum", signal.SIGINT)
    name = signal.Signals(signum).name
    if as_json:
        sys.stdout.write(json.dumps({"status": "Aborted", "output": None,
                                     "error": {"Code": "Aborted", "Detail": f"the run got {name}"}}) + "\n")
    print(f"airflow-cloudflow run: aborted by {name}", file=sys.stderr)
    return 128 + int(signum)
