"""Progress of long steps on stderr.

On a terminal one line per step is redrawn in place; in logs and CI a line is printed at most every few
seconds per step, so a 100,000-user fan-out neither floods the log nor stays silent.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TextIO

ProgressFn = Callable[[str, dict[str, Any]], None]

# A terminal reporter for the steps of a run executed in this process (``seatwatch run``): the Dagster assets
# report to it as well as to their own log, so a person sees progress without Dagster's event log.
_terminal: ContextVar[ProgressFn | None] = ContextVar("seatwatch_progress", default=None)


@contextmanager
def reporting_to(reporter: ProgressFn) -> Iterator[None]:
    token = _terminal.set(reporter)
    try:
        yield
    finally:
        _terminal.reset(token)


def terminal_reporter() -> ProgressFn | None:
    return _terminal.get()


class StderrProgress:
    def __init__(self, stream: TextIO | None = None, *, interval: float = 2.0, enabled: bool = True) -> None:
        self._stream = stream or sys.stderr
        self._interval = interval
        self._enabled = enabled
        self._tty = self._stream.isatty()
        self._last_print: dict[str, float] = {}
        self._started: dict[str, float] = {}
        self._unprinted: dict[str, str] = {}  # the newest state of a step that the throttle held back
        self._open_line = False

    def __call__(self, step: str, counters: dict[str, Any]) -> None:
        if not self._enabled:
            return
        now = time.monotonic()
        started = self._started.setdefault(step, now)
        done, total = counters.get("done"), counters.get("total")
        final = done is not None and done == total
        line = self._format(step, counters, now - started)
        # A step's first line always prints: the monotonic clock's origin is arbitrary (often boot time).
        last = self._last_print.get(step)
        throttled = last is not None and now - last < (0.2 if self._tty else self._interval)
        if not final and throttled:
            self._unprinted[step] = line
            return
        self._unprinted.pop(step, None)
        self._last_print[step] = now
        self._write(line, final)

    @staticmethod
    def _format(step: str, counters: dict[str, Any], elapsed: float) -> str:
        org = counters.get("org_id")
        parts = [f"{step}" + (f" [{org}]" if org else "")]
        if "done" in counters:
            rate = counters["done"] / elapsed if elapsed > 0 else 0.0
            parts.append(f"{counters['done']}/{counters['total']} ({rate:.1f}/s)")
        parts += [
            f"{key} {value}" for key, value in counters.items() if key not in {"org_id", "done", "total"}
        ]
        return ": ".join(parts[:2]) + ("  " + ", ".join(parts[2:]) if len(parts) > 2 else "")

    def _write(self, line: str, final: bool) -> None:
        if self._tty:
            self._stream.write("\r\033[K" + line + ("\n" if final else ""))
            self._open_line = not final
        else:
            self._stream.write(line + "\n")
        self._stream.flush()

    def close(self) -> None:
        """Print where each step ended (a throttled step's last count), then end the open line."""
        for line in self._unprinted.values():
            self._write(line, True)
        self._unprinted.clear()
        if self._open_line:
            self._stream.write("\n")
            self._stream.flush()
            self._open_line = False
