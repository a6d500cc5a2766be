"""Progress of long steps on stderr.

On a terminal one line per step is redrawn in place and left with its final counts and time; in logs and CI
a line is printed at most every few seconds per step, so a 100,000-user fan-out neither floods the log nor
stays silent, and every step ends with a lasting line before the next one starts.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from pipeline.config.shared import ELAPSED, FINAL

_NOT_SHOWN = {"org_id", "done", "total", FINAL, ELAPSED}


class StderrProgress:
    """Progress lines on stderr, in the order things happen, and a lasting final line per step.

    On a terminal the current step's line is redrawn in place (at most five times a second); when another
    step reports, the previous one is ended with its latest counts and its time, so the screen keeps one line
    per step. Elsewhere (logs, CI) a step prints at most every ``interval`` seconds, and its last state is
    printed before the next step's first line, so counts never appear after the step that followed.
    """

    def __init__(self, stream: TextIO | None = None, *, interval: float = 2.0, enabled: bool = True) -> None:
        self._stream = stream or sys.stderr
        self._interval = interval
        self._enabled = enabled
        self._tty = self._stream.isatty()
        self._last_print: dict[str, float] = {}
        self._started: dict[str, float] = {}
        self._latest: dict[str, tuple[dict[str, Any], float]] = {}  # step → newest counters, when
        self._current: str | None = None
        self._open_line = False

    def __call__(self, step: str, counters: dict[str, Any]) -> None:
        if not self._enabled:
            return
        now = time.monotonic()
        if self._current is not None and step != self._current:
            self._end(self._current)
        self._current = step
        self._started.setdefault(step, now)
        self._latest[step] = (counters, now)
        done, total = counters.get("done"), counters.get("total")
        if counters.get(FINAL) or (done is not None and done == total):
            self._end(step)
            return
        # A log gets a step's first line only once the step has lasted `interval`: short steps print just
        # their final line. A terminal shows the live line at once.
        last = self._last_print.get(step, None if self._tty else self._started[step])
        if last is not None and now - last < (0.2 if self._tty else self._interval):
            return
        self._last_print[step] = now
        self._write(self._format(step, counters, now - self._started[step]), final=False)

    def _end(self, step: str) -> None:
        """Print the step's last state as a lasting line with its time, once."""
        latest = self._latest.pop(step, None)
        if latest is None:
            return
        counters, when = latest
        elapsed = counters.get(ELAPSED, when - self._started[step])
        self._write(self._format(step, counters, elapsed) + f"  ({elapsed:.1f} s)", final=True)
        self._started.pop(step, None)
        self._last_print.pop(step, None)
        if self._current == step:
            self._current = None

    @staticmethod
    def _format(step: str, counters: dict[str, Any], elapsed: float) -> str:
        org = counters.get("org_id")
        head = step + (f" [{org}]" if org else "")
        others = ", ".join(f"{key} {value}" for key, value in counters.items() if key not in _NOT_SHOWN)
        if "done" in counters:
            total = counters["total"]
            rate = counters["done"] / elapsed if elapsed > 0 else 0.0
            count = f"{counters['done']}/{total}" + (f" ({rate:.1f}/s)" if total >= 20 else "")
            return f"{head}: {count}" + (f"  {others}" if others else "")
        return f"{head}: {others}" if others else head

    def _write(self, line: str, final: bool) -> None:
        if self._tty:
            self._stream.write("\r\033[K" + line + ("\n" if final else ""))
            self._open_line = not final
        else:
            self._stream.write(line + "\n")
        self._stream.flush()

    def close(self) -> None:
        """End the step still open (a throttled step's last count), then the open line."""
        for step in list(self._latest):
            self._end(step)
        if self._open_line:
            self._stream.write("\n")
            self._stream.flush()
            self._open_line = False
