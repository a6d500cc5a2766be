"""Rate limits: headers on every API response, 429 ProxyError, classes, windows, Retry-After, concurrency."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import datetime
from email.utils import parsedate_to_datetime

import pytest

from pipeline.simulator.ratelimit import RateLimiter
from pipeline.simulator.world import World
from tests.support.simulator_api import client_for

pytestmark = pytest.mark.anyio

RATE_LIMITED = b'{"code":429,"message":"Rate limit exceeded"}'


def _wait_seconds(headers) -> float:
    """What a client computes from one response: Reset - Date."""
    reset = datetime.fromisoformat(headers["x-ratelimit-reset"].replace("Z", "+00:00"))
    return (reset - parsedate_to_datetime(headers["date"])).total_seconds()


async def test_every_api_response_carries_the_headers(api, org_id: str) -> None:
    for response in (
        await api.get("/v1/orgs"),
        await api.get("/v1/orgs/unknown"),
        await api.post(f"/v2/orgs/{org_id}/workspaces", json={"limit": 0}),
    ):
        assert response.headers["x-ratelimit-limit"] == "100000"
        assert int(response.headers["x-ratelimit-remaining"]) < 100000
        assert response.headers["x-ratelimit-reset"].endswith("Z")
        assert 0 < _wait_seconds(response.headers) <= 60
        assert "retry-after" not in response.headers


async def test_exceeding_the_limit_gives_429(make_world: Callable[..., World]) -> None:
    world = make_world(rate_limits={"events": 2, "last_active": 2, "default": 3})
    org_id = next(iter(world.orgs))
    async with client_for(world) as client:
        remaining = [(await client.get("/v1/orgs")).headers["x-ratelimit-remaining"] for _ in range(3)]
        assert remaining == ["2", "1", "0"]
        refused = await client.get("/v1/orgs")
        assert refused.status_code == 429 and refused.content == RATE_LIMITED
        assert refused.headers["x-ratelimit-remaining"] == "0"
        assert "retry-after" not in refused.headers  # undocumented for the Admin API: off by default
        # Classes count separately: events and last-active still have their own budget.
        events = [(await client.get(f"/v1/orgs/{org_id}/events")).status_code for _ in range(3)]
        assert events == [200, 200, 429]
        stream = await client.get(f"/v1/orgs/{org_id}/events-stream")
        assert stream.status_code == 429, "the stream is in the default class, already spent"
        account = next(iter(world.orgs[org_id].users))
        path = f"/v1/orgs/{org_id}/directory/users/{account}/last-active-dates"
        assert [(await client.get(path)).status_code for _ in range(3)] == [200, 200, 429]
        # The simulator's controls are never limited and carry no rate-limit headers.
        control = await client.get("/_simulator/faults")
        assert control.status_code == 200 and "x-ratelimit-limit" not in control.headers


async def test_retry_after_toggle(make_world: Callable[..., World]) -> None:
    world = make_world(rate_limits={"events": 1, "last_active": 1, "default": 1}, retry_after=True)
    async with client_for(world) as client:
        assert "retry-after" not in (await client.get("/v1/orgs")).headers  # only on refusals
        refused = await client.get("/v1/orgs")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) == _wait_seconds(refused.headers)
    assert 1 <= int(refused.headers["retry-after"]) <= 60


async def test_the_window_resets_in_real_time(make_world: Callable[..., World]) -> None:
    world = make_world(rate_limits={"events": 1, "last_active": 1, "default": 1}, rate_window_seconds=0.3)
    async with client_for(world) as client:
        assert (await client.get("/v1/orgs")).status_code == 200
        refused = await client.get("/v1/orgs")
        assert refused.status_code == 429
        assert _wait_seconds(refused.headers) == 1  # rounded up to whole seconds
        await asyncio.sleep(0.35)
        assert (await client.get("/v1/orgs")).status_code == 200


async def test_concurrent_requests_never_exceed_the_limit(make_world: Callable[..., World]) -> None:
    world = make_world(rate_limits={"events": 15, "last_active": 15, "default": 15})
    async with client_for(world) as client:
        responses = await asyncio.gather(*(client.get("/v1/orgs") for _ in range(40)))
    assert sorted(response.status_code for response in responses) == [200] * 15 + [429] * 25


def test_the_limiter_is_thread_safe() -> None:
    limiter = RateLimiter({"default": 250}, window_seconds=60)
    allowed = []

    def hammer() -> None:
        allowed.extend(limiter.hit("key", "default").allowed for _ in range(100))

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 250


def test_the_limiter_counts_per_key_and_class() -> None:
    now = [0.0]
    limiter = RateLimiter({"events": 1, "default": 2}, window_seconds=10, clock=lambda: now[0])
    assert limiter.hit("a", "events").allowed and not limiter.hit("a", "events").allowed
    assert limiter.hit("b", "events").allowed, "another key has its own window"
    assert limiter.hit("a", "default").remaining == 1
    now[0] = 9.5
    assert limiter.peek("a", "events").seconds_left == pytest.approx(0.5)
    now[0] = 10.0
    assert limiter.hit("a", "events").allowed, "a new window"
