"""Fault injection in-process: errors, slow answers, drops, broken JSON, 429 storms, latency, control."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import httpx
import pytest

from pipeline.simulator.model import FaultConfig
from pipeline.simulator.world import World
from tests.support.simulator_api import client_for

pytestmark = pytest.mark.anyio


async def test_faults_are_off_by_default(api) -> None:
    statuses = {(await api.get("/v1/orgs")).status_code for _ in range(50)}
    assert statuses == {200}


async def test_server_errors_look_like_service_and_proxy(make_world: Callable[..., World]) -> None:
    world = make_world(faults=FaultConfig(error_rate=1.0))
    async with client_for(world) as client:
        responses = {}
        for _ in range(40):
            response = await client.get("/v1/orgs")
            responses.setdefault(response.status_code, response)
        # The simulator's controls are never faulted.
        assert (await client.get("/_simulator/faults")).status_code == 200
    assert set(responses) == {500, 502, 503}
    (error,) = responses[500].json()["errors"]
    assert error["code"] == "ADMIN-500-1" and error["status"] == "500"
    assert responses[502].headers["content-type"].startswith("text/html")
    assert "502 Bad Gateway" in responses[502].text
    assert responses[503].headers["content-type"].startswith("text/plain")
    assert all("x-ratelimit-remaining" in response.headers for response in responses.values())


async def test_slow_responses_outlast_a_client_timeout(make_world: Callable[..., World]) -> None:
    world = make_world(faults=FaultConfig(slow_rate=1.0, slow_seconds=0.3))
    async with client_for(world) as client:
        started = time.monotonic()
        response = await client.get("/v1/orgs")
        assert time.monotonic() - started >= 0.3 and response.status_code == 200
        # ASGITransport ignores httpx timeouts, so give up the way an impatient caller does.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(client.get("/v1/orgs"), timeout=0.1)


async def test_dropped_connections_are_transport_errors(make_world: Callable[..., World]) -> None:
    world = make_world(faults=FaultConfig(drop_rate=1.0))
    async with client_for(world) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/v1/orgs")
        with pytest.raises(httpx.TransportError):
            await client.post(f"/v2/orgs/{next(iter(world.orgs))}/workspaces", json={})


async def test_malformed_pages_are_truncated_json(make_world: Callable[..., World]) -> None:
    world = make_world(faults=FaultConfig(malformed_rate=1.0))
    async with client_for(world) as client:
        broken = await client.get("/v1/orgs")
        await client.post("/_simulator/faults", json={})
        intact = await client.get("/v1/orgs")
    assert broken.status_code == 200 and broken.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        broken.json()
    assert intact.content.startswith(broken.content) and len(broken.content) < len(intact.content)


async def test_a_429_storm_then_calm(make_world: Callable[..., World]) -> None:
    world = make_world(faults=FaultConfig(storm_requests=3), retry_after=True)
    async with client_for(world) as client:
        stormy = [await client.get("/v1/orgs") for _ in range(3)]
        assert (await client.get("/v1/orgs")).status_code == 200
        # Re-armed at run time.
        assert (await client.post("/_simulator/faults", json={"storm_requests": 2})).status_code == 200
        statuses = [(await client.get("/v1/orgs")).status_code for _ in range(3)]
    assert statuses == [429, 429, 200]
    for response in stormy:
        assert response.status_code == 429
        assert response.json() == {"code": 429, "message": "Rate limit exceeded"}
        assert response.headers["x-ratelimit-remaining"] == "0" and "retry-after" in response.headers


async def test_latency(make_world: Callable[..., World]) -> None:
    world = make_world(faults=FaultConfig(latency_ms=60, jitter_ms=20))
    async with client_for(world) as client:
        started = time.monotonic()
        for _ in range(3):
            assert (await client.get("/v1/orgs")).status_code == 200
    assert time.monotonic() - started >= 3 * 0.04


async def test_fault_sequences_repeat_for_the_same_seed(make_world: Callable[..., World]) -> None:
    async def statuses(seed: int) -> list[int]:
        world = make_world(faults=FaultConfig(error_rate=0.5, seed=seed))
        async with client_for(world) as client:
            return [(await client.get("/v1/orgs")).status_code for _ in range(30)]

    first = await statuses(1)
    assert first == await statuses(1)
    assert first != await statuses(2)
    assert 200 in first and {500, 502, 503} & set(first)


async def test_fault_config_can_be_read_and_replaced(make_world: Callable[..., World]) -> None:
    world = make_world()
    async with client_for(world) as client:
        current = (await client.get("/_simulator/faults")).json()
        assert current["error_rate"] == 0 and current["seed"] == world.config.seed
        # Served at the root (as the issue names it) and under the API root (relative paths here).
        changed = await client.post("http://sim.test/_simulator/faults", json={"error_rate": 1, "seed": 5})
        assert changed.json()["error_rate"] == 1
        assert (await client.get("/v1/orgs")).status_code in {500, 502, 503}
        for bad in (
            {"error_rate": 2},
            {"error_rate": 0.6, "drop_rate": 0.6},
            {"bogus": 1},
            {"latency_ms": -1},
        ):
            response = await client.post("/_simulator/faults", json=bad)
            assert response.status_code == 400, bad
        assert (await client.get("/_simulator/faults")).json()["error_rate"] == 1, (
            "a refused change changes nothing"
        )
