"""Fixtures for the simulator's HTTP tests: worlds, in-process clients and a few shared helpers.

Tests talk to the app through ``httpx.ASGITransport`` (no sockets, fast); one test goes through a real
uvicorn thread. The shared ``world`` is read-only; a test that advances the clock or changes faults builds
its own with ``make_world``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from pipeline.simulator.world import World
from tests.support.simulator_api import client_for, simulator_config


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def world() -> World:
    """A 300-user world at START, shared by every read-only test."""
    return World(simulator_config())


@pytest.fixture
def make_world() -> Callable[..., World]:
    """A fresh world of its own (for tests that advance it or depend on counters)."""

    def make(**overrides: Any) -> World:
        return World(simulator_config(**overrides))

    return make


@pytest.fixture
async def api(world: World) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(world) as client:
        yield client


@pytest.fixture(scope="session")
def org_id(world: World) -> str:
    return next(iter(world.orgs))
