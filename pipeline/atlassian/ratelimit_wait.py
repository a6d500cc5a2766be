"""How long one client may wait for the API's rate windows in total, and the line that says it is waiting.

A 429 that names its window (Reset or Retry-After) is the API pacing us: the client waits for the window
and tries again without counting an attempt. A storm of them must still end: the waits add up (overlapping
waits of parallel requests count once) and past ``limit`` seconds the run stops with one line.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from pipeline.atlassian.errors import RateLimitWaitExceededError


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class RateLimitBudget:
    """The total wait of one client for rate windows, bounded by ``limit`` seconds."""

    def __init__(
        self,
        limit: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        say: Callable[[str], None] = _say,
    ) -> None:
        self._limit = limit
        self._clock = clock
        self._wall = wall
        self._say = say
        self._until = 0.0  # end of the wait covered so far, monotonic
        self._said = ""
        self.spent = 0.0

    def spend(self, seconds: float, request_line: str) -> None:
        """Count a wait of ``seconds`` from now; say when the run resumes; raise past the limit."""
        now = self._clock()
        end = now + seconds
        extra = max(0.0, end - max(now, self._until))
        if extra <= 0:
            return
        if self.spent + extra > self._limit:
            raise RateLimitWaitExceededError(
                f"{request_line}: the API kept answering 429 (rate limited) for over {self._limit:.0f} s in "
                "total. Run again later, or raise SEATWATCH_RATE_LIMIT_MAX_WAIT_SECONDS."
            )
        self.spent += extra
        self._until = end
        line = "rate-limited by the API, resuming at " + time.strftime(
            "%H:%M:%S", time.localtime(self._wall() + seconds)
        )
        if line != self._said:  # parallel requests refused in the same window: one line
            self._said = line
            self._say(line)
