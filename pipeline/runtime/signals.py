"""Stopping on SIGINT (Ctrl-C) and SIGTERM within seconds, with exit 130 / 143 and one line.

Inside a Dagster run, SIGINT is Dagster's own: it interrupts the running step (dagster-dbt forwards it to
dbt), the step fails as interrupted, and the run ends canceled. SIGTERM is routed to the same path, so
``kill`` and ``timeout`` stop a run exactly like Ctrl-C. If the run has not stopped after a grace period
(a DuckDB statement or a socket read that does not return to Python), or on a second signal, the hard
stop runs: the caller's ``on_hard_stop`` (mark the run canceled), then the process exits at once; its
children die with it (see :mod:`pipeline.runtime.children`). The warehouse stays consistent either way:
dlt loads packages atomically and DuckDB rolls back an unfinished transaction on the next open.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType

GRACE_SECONDS = 7.0
_NAMES = {signal.SIGINT: "Ctrl-C (SIGINT)", signal.SIGTERM: "SIGTERM"}


def exit_code(signum: int) -> int:
    return 128 + signum


@dataclass
class StopState:
    signum: int | None = None
    _hard_stop_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def requested(self) -> bool:
        return self.signum is not None

    @property
    def exit_code(self) -> int:
        return exit_code(self.signum or signal.SIGINT)

    @property
    def name(self) -> str:
        return _NAMES.get(self.signum or signal.SIGINT, f"signal {self.signum}")


@contextmanager
def stoppable(
    *,
    stopped_line: Callable[[StopState], str],
    on_hard_stop: Callable[[StopState], None] = lambda state: None,
    grace_seconds: float = GRACE_SECONDS,
    within_dagster: bool = True,
) -> Iterator[StopState]:
    """Within the block, SIGINT and SIGTERM request a stop; see the module docstring."""
    state = StopState()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def hard_stop() -> None:
        if not state._hard_stop_lock.acquire(blocking=False):
            return
        try:
            on_hard_stop(state)
        finally:
            print(stopped_line(state), file=sys.stderr, flush=True)
            os._exit(state.exit_code)

    done = threading.Event()  # the block ended: the stop was clean, no hard stop

    def watchdog() -> None:
        if not done.wait(grace_seconds):
            hard_stop()

    def handler(signum: int, frame: FrameType | None) -> None:
        if state.requested:
            hard_stop()  # a second signal: no more waiting
            return
        state.signum = signum
        threading.Thread(target=watchdog, name="seatwatch-stop-watchdog", daemon=True).start()
        # Whatever handles SIGINT now (Dagster's, during a run) handles SIGTERM the same way.
        current = signal.getsignal(signal.SIGINT)
        if callable(current) and current is not handler:
            current(signal.SIGINT, frame)
        else:
            raise KeyboardInterrupt

    def notice_dagster_interrupts() -> None:
        # During a run Dagster's own SIGINT handler replaces ours and only sets a flag: notice it here,
        # so a Ctrl-C gets the same grace period and hard stop as a SIGTERM.
        from dagster._utils.interrupts import check_captured_interrupt

        while not done.wait(0.25):
            if not state.requested and check_captured_interrupt():
                state.signum = signal.SIGINT
                watchdog()
                return

    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGINT, signal.SIGTERM)}
    if within_dagster:
        threading.Thread(target=notice_dagster_interrupts, name="seatwatch-interrupts", daemon=True).start()
    try:
        yield state
    finally:
        done.set()
        for signum, old in previous.items():
            signal.signal(signum, old)
