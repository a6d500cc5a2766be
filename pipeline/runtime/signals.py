"""Stopping on SIGINT (Ctrl-C) and SIGTERM within seconds, with exit 130 / 143 and one line.

Inside a Dagster run, SIGINT is Dagster's own: it interrupts the running step (dagster-dbt forwards it to
dbt) and the step fails as interrupted; the caller then records the run canceled. SIGTERM is routed to the
same path, so
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
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType

from pipeline.runtime import patches

GRACE_SECONDS = 5.0
# Two deliveries of the same stop closer together than this are one request (see `record` below).
DUPLICATE_SIGNAL_SECONDS = 1.0
_NAMES = {signal.SIGINT: "Ctrl-C (SIGINT)", signal.SIGTERM: "SIGTERM"}


def exit_code(signum: int) -> int:
    return 128 + signum


@dataclass
class StopState:
    signum: int | None = None
    # While set, a stop request only records itself: no KeyboardInterrupt in the main thread, whose code
    # checks `requested` at points where stopping is safe (reclaim: between two writes). The grace period
    # and the hard stop still apply.
    deferred: bool = False
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
    done = threading.Event()  # the block ended: the stop was clean, no hard stop

    def hard_stop() -> None:
        if not state._hard_stop_lock.acquire(blocking=False):
            return
        try:
            on_hard_stop(state)
        finally:
            print(stopped_line(state), file=sys.stderr, flush=True)
            os._exit(state.exit_code)

    def watchdog() -> None:
        if not done.wait(grace_seconds):
            hard_stop()

    first_at: float | None = None

    def record(signum: int) -> None:
        """A first signal starts the grace period; a second one ends the process at once."""
        nonlocal first_at
        now = time.monotonic()
        if first_at is not None:
            # `timeout … uv run seatwatch run` delivers one stop twice: timeout signals the whole process
            # group and uv forwards the same signal to its child. A person's second Ctrl-C comes later.
            if now - first_at >= DUPLICATE_SIGNAL_SECONDS:
                threading.Thread(target=hard_stop, daemon=True).start()
            return
        first_at = now
        state.signum = state.signum or signum
        threading.Thread(target=watchdog, name="seatwatch-stop-watchdog", daemon=True).start()

    # Signals are counted by a thread reading the wakeup pipe, which the interpreter's C handler writes
    # even while the main thread is stuck in C code (a DuckDB statement, a lock) and cannot run a Python
    # handler: the grace period and the hard stop must not depend on the main thread.
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)

    def count_signals() -> None:
        while True:
            try:
                received = os.read(read_end, 64)
            except OSError:
                return
            if not received:
                return
            for signum in received:
                if signum in (signal.SIGINT, signal.SIGTERM):
                    record(signum)

    forwarded = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        if forwarded.is_set():
            return  # a second signal: the counting thread ends the process
        forwarded.set()
        state.signum = state.signum or signum
        if state.deferred:
            return
        # Whatever handles SIGINT now (Dagster's, during a run) handles SIGTERM the same way.
        current = signal.getsignal(signal.SIGINT)
        if callable(current) and current is not handler:
            current(signal.SIGINT, frame)
        else:
            raise KeyboardInterrupt

    if within_dagster:
        patches.keep_sigterm_during_runs()  # Dagster would point SIGTERM at its own SIGINT handler
    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGINT, signal.SIGTERM)}
    previous_fd = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    threading.Thread(target=count_signals, name="seatwatch-signals", daemon=True).start()
    try:
        yield state
    finally:
        done.set()
        signal.set_wakeup_fd(previous_fd)
        for signum, old in previous.items():
            signal.signal(signum, old)
        os.close(write_end)  # ends the counting thread
        os.close(read_end)
