"""Client-side pacing driven by the API's own rate-limit headers.

Why our own layer: neither httpx nor dlt reads ``X-RateLimit-*``, and retrying 429s wastes a share of a
rate-limited fan-out (stack notes 1.2–1.4). Each rate bucket (method + path template) is paced on its own:

* **Window.** ``X-RateLimit-Reset − Date`` (both on the server's clock, which may be simulated and far from
  ours) is the time left in the server's window; adding it to our monotonic time of receipt gives the
  window's end on our clock. ``Remaining`` is the budget left in it, less the requests we have in flight.
* **Spread.** A tenth of the limit may go at once (short listings finish fast); the rest is held back in
  proportion to the time left, so the budget is used evenly and ends with the window.
* **Probe.** When no window is known (first call, window over, after a 429) one request goes alone; its
  answer tells us the new window before the others follow.
* **Stale answers.** An answer to a request sent before the window we track is ignored: its ``Remaining``
  belongs to the previous window.

If a server sends no rate-limit headers, only the client's concurrency bound applies; 429s are still
honoured through :meth:`Pacer.block`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

# Allowance for event-loop jitter after a Reset given to the millisecond.
FINE_MARGIN = 0.1
# A Reset rounded to the second can name a moment up to a second before the real reset.
COARSE_MARGIN = 1.0
BURST_FRACTION = 0.1
# Two estimates of a window's end further apart than Date's one-second rounding are different windows.
NEW_WINDOW_GAP = 1.0
# Waits at least this long are worth one log line per window: the run is idle on purpose.
NOTABLE_WAIT = 5.0

log = logging.getLogger("seatwatch.api")


def server_date(headers: httpx.Headers) -> datetime | None:
    """The response's ``Date`` header as an aware UTC datetime (the server's clock)."""
    raw = headers.get("date")
    if not raw:
        return None
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _parse_iso(raw: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class RateLimitHeaders:
    limit: int
    remaining: int
    seconds_left: float  # Reset − Date, both read from the server's clock
    coarse: bool  # Reset has no fractional seconds

    @classmethod
    def parse(cls, headers: httpx.Headers) -> RateLimitHeaders | None:
        """None unless Limit, Remaining, Reset and Date are all present and readable."""
        try:
            limit = int(headers["x-ratelimit-limit"])
            remaining = int(headers["x-ratelimit-remaining"])
        except (KeyError, ValueError):
            return None
        raw_reset = headers.get("x-ratelimit-reset", "")
        reset, date = _parse_iso(raw_reset), server_date(headers)
        if reset is None or date is None or limit <= 0:
            return None
        if reset <= date:
            # A Reset at or before Date was truncated (some servers and clients keep only the minute of the
            # documented ISO timestamp): the window ends at the latest at the next minute boundary. Waiting
            # until then, not ~1 s, keeps a limited client from spending its retries in a few seconds.
            next_minute = date.replace(second=0, microsecond=0) + timedelta(minutes=1)
            return cls(limit, max(0, remaining), (next_minute - date).total_seconds(), True)
        return cls(limit, max(0, remaining), (reset - date).total_seconds(), "." not in raw_reset)

    @property
    def margin(self) -> float:
        return COARSE_MARGIN if self.coarse else FINE_MARGIN


@dataclass(frozen=True)
class Ticket:
    """Permission to send one request; hand it back to :meth:`Pacer.settle` with the answer."""

    bucket: str
    epoch: int


class _Bucket:
    def __init__(self) -> None:
        self.epoch = 0  # bumped whenever the tracked window is given up
        self.in_flight = 0
        self.probing = True
        self.blocked_until = 0.0
        self.limit = 0
        self.remaining = 0
        self.window_end: float | None = None
        self.window_len = 0.0  # longest time-left seen: the window's length, for spreading
        self.margin = FINE_MARGIN
        self.announced_epoch = -1
        self.changed = asyncio.Event()

    def wait_time(self, now: float) -> float | None:
        """0 when a request may go now, else seconds to wait, or None to wait for an answer."""
        if now < self.blocked_until:
            return self.blocked_until - now
        if self.window_end is not None and now >= self.window_end + self.margin:
            self.forget_window()
        if self.probing:
            return 0.0 if self.in_flight == 0 else None
        if self.window_end is None:
            return 0.0
        available = self.remaining - self.in_flight
        if available <= 0:
            return self.window_end + self.margin - now
        time_left = max(0.0, self.window_end - now)
        held_back = self.limit - max(1, math.ceil(self.limit * BURST_FRACTION))
        if held_back <= 0 or self.window_len <= 0:
            return 0.0
        reserve = held_back * min(1.0, time_left / self.window_len)
        if available - 1 >= reserve - 1e-9:
            return 0.0
        # The moment the pro-rata reserve shrinks to what would be left after sending.
        return max(time_left - (available - 1) * self.window_len / held_back, 1e-3)

    def observe(self, now: float, info: RateLimitHeaders) -> None:
        window_end = now + info.seconds_left
        self.limit = info.limit
        self.window_len = max(self.window_len, info.seconds_left)
        self.margin = info.margin
        self.probing = False
        if self.window_end is None or (
            window_end > self.window_end + NEW_WINDOW_GAP and info.remaining > self.remaining
        ):
            self.window_end, self.remaining = window_end, info.remaining
        else:
            # Answers arrive out of order: the lowest Remaining and the latest end are the safe reading.
            self.window_end = max(self.window_end, window_end)
            self.remaining = min(self.remaining, info.remaining)

    def count_blind(self) -> None:
        """A request the server probably counted but whose answer told us nothing about the window."""
        if self.window_end is not None:
            self.remaining = max(0, self.remaining - 1)

    def forget_window(self) -> None:
        self.window_end = None
        self.epoch += 1
        self.probing = True

    def notify(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()


class Pacer:
    """Per-bucket pacing for one event loop. ``clock`` is monotonic seconds (injectable for tests)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, key: str) -> _Bucket:
        if key not in self._buckets:
            self._buckets[key] = _Bucket()
        return self._buckets[key]

    def try_acquire(self, key: str) -> Ticket | float | None:
        """A ticket if a request may go now; else seconds to wait, or None to wait for an answer."""
        bucket = self._bucket(key)
        wait = bucket.wait_time(self._clock())
        if wait != 0:
            return wait
        bucket.in_flight += 1
        return Ticket(key, bucket.epoch)

    async def acquire(self, key: str) -> Ticket:
        while True:
            # No await between the decision and the count: nothing else on the loop can slip in.
            outcome = self.try_acquire(key)
            if isinstance(outcome, Ticket):
                return outcome
            bucket = self._bucket(key)
            # A 429 hold is logged by the client; this is the quiet kind of waiting, inside a known window.
            pacing = bucket.window_end is not None and bucket.announced_epoch != bucket.epoch
            if pacing and outcome is not None and outcome >= NOTABLE_WAIT:
                bucket.announced_epoch = bucket.epoch
                log.info(
                    "%s: pacing to the API's limit of %d per window; next call in %.0f s",
                    key,
                    bucket.limit,
                    outcome,
                )
            changed = bucket.changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), outcome)

    def settle(self, ticket: Ticket, *, ok: bool, info: RateLimitHeaders | None) -> None:
        """Record the answer to a granted request (``ok``: a 2xx; ``info``: its rate-limit headers)."""
        bucket = self._bucket(ticket.bucket)
        bucket.in_flight -= 1
        if ticket.epoch == bucket.epoch:
            if info is not None:
                bucket.observe(self._clock(), info)
            else:
                bucket.count_blind()
                if ok:
                    bucket.probing = False
        bucket.notify()

    def block(self, key: str, seconds: float) -> None:
        """After a 429: hold the whole bucket, then probe with one request before the others follow."""
        bucket = self._bucket(key)
        bucket.blocked_until = max(bucket.blocked_until, self._clock() + seconds)
        bucket.forget_window()
        bucket.notify()
