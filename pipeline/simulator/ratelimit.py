"""Fixed-window rate limits per (API key, endpoint class), in real seconds.

Windows follow the real clock (a client really waits), while the ``X-RateLimit-Reset`` header is written on
the simulated clock: ``sim now + real seconds left in the window``. A client that computes
``Reset - Date`` from one response therefore waits exactly as long as it must, whatever the simulated date.

A window opens with the first request of a (key, class) and lasts ``window_seconds``; requests beyond the
limit inside it are refused. One lock guards the counters: handlers run on the event loop, but tests may
share a limiter across threads (uvicorn in a background thread plus the test thread).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

# Which limit applies to a path (see docs/architecture.md "Simulator semantics").
EVENTS = "events"
LAST_ACTIVE = "last_active"
DEFAULT = "default"


def endpoint_class(path: str) -> str:
    """The limit class of an API path (relative to ``/admin``)."""
    if path.endswith("/last-active-dates"):
        return LAST_ACTIVE
    # Only the legacy search endpoint has the documented 10/min limit; events-stream is the cheap way out.
    if path.startswith("/v1/orgs/") and path.rstrip("/").endswith("/events"):
        return EVENTS
    return DEFAULT


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    seconds_left: float

    def headers(
        self, sim_now: datetime, *, retry_after: bool, minute_precision: bool = False
    ) -> dict[str, str]:
        """Rate-limit headers; ``Retry-After`` only on a refusal and only when enabled.

        ``minute_precision``: ``X-RateLimit-Reset`` truncated to the minute, as a client that parses the
        documented "ISO 8601 date and time" to the minute would see it; it may then be at or before ``Date``.
        """
        wait = max(1, math.ceil(self.seconds_left))
        reset = sim_now.replace(microsecond=0) + timedelta(seconds=wait)
        if minute_precision:
            reset = reset.replace(second=0)
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if retry_after and not self.allowed:
            headers["Retry-After"] = str(wait)
        return headers


class RateLimiter:
    def __init__(
        self,
        limits: dict[str, int],
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = dict(limits)
        self._window = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        # (key, class) -> (window start, requests counted in it)
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}

    def limit_for(self, limit_class: str) -> int:
        return self._limits.get(limit_class, self._limits.get(DEFAULT, 600))

    def hit(self, key: str, limit_class: str) -> Decision:
        """Count one request and say whether it may proceed."""
        return self._take(key, limit_class, consume=True)

    def peek(self, key: str, limit_class: str) -> Decision:
        """The current state without counting a request (for responses that are not counted)."""
        return self._take(key, limit_class, consume=False)

    def exhaust(self, key: str, limit_class: str) -> Decision:
        """A refusal in the current window, as a 429 storm answers it (the counters are left alone)."""
        state = self.peek(key, limit_class)
        return Decision(False, state.limit, 0, state.seconds_left)

    def _take(self, key: str, limit_class: str, *, consume: bool) -> Decision:
        limit = self.limit_for(limit_class)
        now = self._clock()
        with self._lock:
            start, used = self._windows.get((key, limit_class), (now, 0))
            if now - start >= self._window:
                start, used = now, 0
            allowed = used < limit
            if consume and allowed:
                used += 1
            if consume:
                self._windows[(key, limit_class)] = (start, used)
        seconds_left = self._window - (now - start)
        return Decision(allowed, limit, max(0, limit - used), seconds_left)
