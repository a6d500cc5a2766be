"""The simulator's HTTP tests' helpers: the shared world's configuration, an in-process client, v2 paging.

Tests talk to the app through ``httpx.ASGITransport`` (no sockets, fast).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx

from pipeline.simulator.app import create_app
from pipeline.simulator.model import SimulatorConfig
from pipeline.simulator.world import World

START = datetime(2026, 3, 2, 6, tzinfo=UTC)
USERS = 300
# High enough that functional tests never meet a limit; rate-limit tests set their own.
GENEROUS_LIMITS = {"events": 100_000, "last_active": 100_000, "default": 100_000}
BASE_URL = "http://sim.test/admin"


def simulator_config(**overrides: Any) -> SimulatorConfig:
    config = SimulatorConfig(users=USERS, seed=11, start=START, rate_limits=dict(GENEROUS_LIMITS))
    return replace(config, **overrides)


def client_for(world: World, *, key: str | None = None) -> httpx.AsyncClient:
    """An async client for the world's app, authenticated with ``key`` (default: the world's key)."""
    headers = {"Authorization": f"Bearer {key or world.api_key}"}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(create_app(world)), base_url=BASE_URL, headers=headers
    )


async def collect_v2_users(
    client: httpx.AsyncClient, org_id: str, *, search: bool, body: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], list[bytes]]:
    """Every user through v2 GET or POST search, 100 a page; also the raw page bodies."""
    path = f"/v2/orgs/{org_id}/directories/-/users"
    items: list[dict[str, Any]] = []
    pages: list[bytes] = []
    cursor = None
    while True:
        if search:
            payload = {"cursor": cursor} if cursor else {"limit": 100, **(body or {})}
            response = await client.post(f"{path}/search", json=payload)
        else:
            response = await client.get(path, params={"cursor": cursor} if cursor else {"limit": 100})
        assert response.status_code == 200, response.text
        pages.append(response.content)
        page = response.json()
        assert len(page["data"]) <= 100
        items.extend(page["data"])
        cursor = page["links"]["next"]
        if cursor is None:
            return items, pages
