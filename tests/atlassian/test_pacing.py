"""Pacing: stay under the server's window without 429s and still use ≥ 90 % of it.

Most checks drive the pacer in virtual time (a discrete-event model of a fixed-window server), so they are
exact and independent of how loaded the machine is. One test runs the real client against a real-time fake.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from dataclasses import dataclass

import httpx
import pytest

from pipeline.atlassian import AdminApi, ApiStats
from pipeline.atlassian.pacing import FINE_MARGIN, Pacer, RateLimitHeaders, Ticket
from pipeline.atlassian.retry import RetryPolicy
from tests.support.fake_api import ORG, FakeApi, FixedWindowLimiter

BUCKET = "GET /v1/orgs/{}/directory/users/{}/last-active-dates"


@dataclass(frozen=True)
class Run:
    served: int
    rejected: int
    elapsed: float
    max_in_flight: int

    def rate(self) -> float:
        return self.served / self.elapsed


def simulate(
    *,
    limit: int,
    window: float,
    latency: float,
    concurrency: int,
    calls: int,
    server_clock: str = "frozen",
    reset_rounding: str = "ms",
    aligned_windows: bool = False,
) -> Run:
    """Workers share one Pacer against a fixed-window server; every event happens in virtual time.

    ``server_clock``: "frozen" (the simulator: Date never moves, Reset = Date + real seconds left) or "real"
    (Date advances and, being an HTTP date, is rounded down to the second). ``reset_rounding``: "ms", "floor"
    (whole seconds, rounded down) or "ceil" (the project's simulator: Date + whole seconds left rounded up,
    at least 1). ``aligned_windows`` starts windows on multiples of ``window`` instead of at the first
    request.
    """
    now = 0.0
    pacer = Pacer(clock=lambda: now)
    heap: list[tuple[float, int, str, object]] = []
    order = itertools.count()
    generation = [0] * concurrency
    idle: set[int] = set()  # workers waiting for a wake-up that an answer may bring forward
    to_send, served, rejected, in_flight, max_in_flight, last_answer = calls, 0, 0, 0, 0, 0.0
    window_start: float | None = None
    count = 0
    server_epoch = 1_900_000_000.6  # the server's clock, seconds (with a fraction, so Date rounding shows)

    def push(at: float, kind: str, data: object) -> None:
        heapq.heappush(heap, (at, next(order), kind, data))

    def wake(worker: int, at: float) -> None:
        generation[worker] += 1
        push(at, "wake", (worker, generation[worker]))

    for worker in range(concurrency):
        wake(worker, 0.0)
    while heap:
        now, _, kind, data = heapq.heappop(heap)
        if kind == "wake":
            worker, gen = data  # type: ignore[misc]
            if gen != generation[worker] or to_send == 0:
                continue
            idle.discard(worker)
            outcome = pacer.try_acquire(BUCKET)
            if isinstance(outcome, Ticket):
                to_send -= 1
                in_flight += 1
                max_in_flight = max(max_in_flight, in_flight)
                push(now + latency / 2, "serve", (worker, outcome))
            else:
                idle.add(worker)
                if outcome is not None:
                    wake(worker, now + outcome)
        elif kind == "serve":
            worker, ticket = data  # type: ignore[misc]
            if aligned_windows:
                start = math.floor(now / window) * window
                if start != window_start:
                    window_start, count = start, 0
            elif window_start is None or now >= window_start + window:
                window_start, count = now, 0
            count += 1
            left = window_start + window - now
            server_now = server_epoch + (now if server_clock == "real" else 0.0)
            date = math.floor(server_now)
            if reset_rounding == "ceil":
                reset = date + max(1, math.ceil(left))
            elif reset_rounding == "floor":
                reset = math.floor(server_now + left)
            else:
                reset = round(server_now + left, 3)
            coarse = reset_rounding != "ms"
            info = RateLimitHeaders(limit, max(0, limit - count), max(0.0, reset - date), coarse)
            push(now + latency / 2, "answer", (worker, ticket, count <= limit, info))
        else:
            worker, ticket, ok, info = data  # type: ignore[misc]
            in_flight -= 1
            last_answer = now
            pacer.settle(ticket, ok=ok, info=info)
            if ok:
                served += 1
            else:
                rejected += 1
                to_send += 1
                pacer.block(BUCKET, info.seconds_left + info.margin)
            # An answer wakes every waiting worker, as Pacer.settle does through its event.
            for waiting in [worker, *idle]:
                wake(waiting, now)
            idle.clear()
    return Run(served, rejected, last_answer, max_in_flight)


@pytest.mark.parametrize(
    "server",
    [
        {"reset_rounding": "ceil"},
        {},
        {"server_clock": "real"},
        {"server_clock": "real", "reset_rounding": "floor"},
        {"server_clock": "real", "reset_rounding": "ceil"},
        {"server_clock": "real", "aligned_windows": True},
        {"aligned_windows": True, "reset_rounding": "floor"},
    ],
    ids=["simulator", "frozen-clock", "real-clock", "floor-reset", "ceil-reset", "aligned", "aligned-floor"],
)
def test_600_per_minute_at_50_ms_and_8_workers_runs_at_90_percent_without_429(server: dict) -> None:
    run = simulate(limit=600, window=60.0, latency=0.05, concurrency=8, calls=3000, **server)

    assert run.rejected == 0
    assert run.served == 3000
    assert run.rate() >= 0.9 * 600 / 60, run


def test_200_per_minute_with_slow_answers_stays_under_the_limit() -> None:
    run = simulate(limit=200, window=60.0, latency=0.4, concurrency=8, calls=700, server_clock="real")

    assert run.rejected == 0 and run.rate() >= 0.9 * 200 / 60, run


def test_10_per_minute_events_endpoint_is_spread_not_burst() -> None:
    run = simulate(limit=10, window=60.0, latency=0.05, concurrency=1, calls=25)

    assert run.rejected == 0
    # Two full windows and a part of the third: 25 calls cannot finish before two minutes have passed.
    assert run.elapsed > 120


def test_a_window_is_spread_after_an_initial_burst() -> None:
    run = simulate(limit=100, window=10.0, latency=0.01, concurrency=8, calls=100)

    assert run.rejected == 0
    # A burst of about a tenth, the rest spread to the end of the server's window (~10 s after it opened).
    assert run.elapsed > 9


def test_without_rate_limit_headers_only_concurrency_limits() -> None:
    now = 0.0
    pacer = Pacer(clock=lambda: now)
    probe = pacer.try_acquire(BUCKET)
    assert isinstance(probe, Ticket)
    assert pacer.try_acquire(BUCKET) is None  # the first answer decides how to pace
    pacer.settle(probe, ok=True, info=None)
    assert all(isinstance(pacer.try_acquire(BUCKET), Ticket) for _ in range(50))


def test_a_429_holds_the_bucket_then_lets_one_probe_through() -> None:
    now = 0.0
    pacer = Pacer(clock=lambda: now)
    first = pacer.try_acquire(BUCKET)
    assert isinstance(first, Ticket)
    pacer.settle(first, ok=False, info=None)
    pacer.block(BUCKET, 2.0)
    assert pacer.try_acquire(BUCKET) == pytest.approx(2.0)
    now = 2.0
    assert isinstance(pacer.try_acquire(BUCKET), Ticket)
    assert pacer.try_acquire(BUCKET) is None


def test_answers_from_a_previous_window_are_ignored() -> None:
    now = 0.0
    pacer = Pacer(clock=lambda: now)
    probe = pacer.try_acquire(BUCKET)
    assert isinstance(probe, Ticket)
    pacer.settle(probe, ok=True, info=RateLimitHeaders(100, 99, 1.0, False))
    late = pacer.try_acquire(BUCKET)  # sent in the first window, answered after it ended
    assert isinstance(late, Ticket)
    now = 1.0 + FINE_MARGIN
    assert pacer.try_acquire(BUCKET) is None  # the window is over: wait until nothing is in flight
    pacer.settle(late, ok=True, info=RateLimitHeaders(100, 0, 0.0, False))
    new_probe = pacer.try_acquire(BUCKET)
    assert isinstance(new_probe, Ticket)
    assert pacer.try_acquire(BUCKET) is None  # one probe at a time
    pacer.settle(new_probe, ok=True, info=RateLimitHeaders(100, 99, 1.0, False))
    # The old window's "0 remaining" did not stick: the new window's burst is available.
    assert isinstance(pacer.try_acquire(BUCKET), Ticket)


def test_rate_limit_headers_are_read_on_the_servers_clock() -> None:
    raw = {
        "Date": "Sat, 17 May 2031 09:00:00 GMT",
        "X-RateLimit-Limit": "600",
        "X-RateLimit-Remaining": "12",
        "X-RateLimit-Reset": "2031-05-17T09:00:42.500Z",
    }
    assert RateLimitHeaders.parse(httpx.Headers(raw)) == RateLimitHeaders(600, 12, 42.5, False)
    coarse = RateLimitHeaders.parse(httpx.Headers({**raw, "X-RateLimit-Reset": "2031-05-17T09:00:42Z"}))
    assert coarse is not None and coarse.coarse and coarse.margin > FINE_MARGIN
    assert RateLimitHeaders.parse(httpx.Headers({**raw, "Date": ""})) is None  # no server clock to read
    assert RateLimitHeaders.parse(httpx.Headers({"X-RateLimit-Limit": "600"})) is None


def test_control_the_model_does_catch_a_client_that_ignores_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def always(self: Pacer, key: str) -> Ticket:
        return Ticket(key, 0)

    monkeypatch.setattr(Pacer, "try_acquire", always)
    monkeypatch.setattr(Pacer, "settle", lambda self, ticket, ok, info: None)
    monkeypatch.setattr(Pacer, "block", lambda self, key, seconds: None)

    run = simulate(limit=600, window=60.0, latency=0.05, concurrency=8, calls=700)

    assert run.rejected > 0


def test_fan_out_against_a_real_time_fixed_window_gets_no_429() -> None:
    limiter = FixedWindowLimiter(limit=20, window=1.5)
    # Answers (100 ms) slower than the spread interval (1.5 s / 18): requests overlap, so the in-flight
    # accounting is what keeps the window from overflowing. Every account id lands in the limiter.
    fake = FakeApi(latency=0.1, fallback=limiter)

    async def scenario() -> tuple[list[dict | None], ApiStats]:
        async with fake.client(max_concurrency=8) as client:
            results = await AdminApi(client).map_last_active_dates(ORG, [f"u{i}" for i in range(45)])
            return results, client.stats

    results, stats = asyncio.run(scenario())

    assert limiter.rejected == 0 and stats.rate_limited == 0
    assert limiter.served == 45 and all(result == {"product_access": []} for result in results)
    assert stats.by_bucket[BUCKET].calls == 45
    assert 1 < fake.max_in_flight <= 8


def test_a_reset_truncated_to_the_minute_waits_for_the_next_minute_not_a_second() -> None:
    raw = {
        "Date": "Sat, 17 May 2031 09:00:17 GMT",
        "X-RateLimit-Limit": "10",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "2031-05-17T09:00:00Z",  # the real reset (09:00:50) cut to the minute
    }
    info = RateLimitHeaders.parse(httpx.Headers(raw))
    assert info is not None and info.seconds_left == 43  # until 09:01:00
    same = RateLimitHeaders.parse(httpx.Headers({**raw, "X-RateLimit-Reset": "2031-05-17T09:00:17Z"}))
    assert same is not None and same.seconds_left == 43
    assert RetryPolicy(max_wait=120).rate_limited_wait(httpx.Headers(raw), attempt=1) >= 43
