"""The simulator's own endpoints: /_simulator/truth, /advance and where they are served."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pipeline.simulator.world import World
from tests.support.simulator_api import client_for

pytestmark = pytest.mark.anyio

ROOT = "http://sim.test"


async def test_truth_is_the_worlds_truth(api, world: World, org_id: str) -> None:
    assert (await api.get(f"{ROOT}/_simulator/truth")).json() == world.truth()
    params = {"org_id": org_id, "inactive_after_days": "30", "invite_grace_days": "7"}
    narrowed = (await api.get("/_simulator/truth", params=params)).json()
    assert narrowed == world.truth(org_id=org_id, inactive_after_days=30, invite_grace_days=7)
    assert (await api.get("/_simulator/truth", params={"org_id": "nope"})).status_code == 404
    assert (await api.get("/_simulator/truth", params={"inactive_after_days": "-3"})).status_code == 400


async def test_advance_moves_the_clock_by_whole_days(make_world: Callable[..., World]) -> None:
    world = make_world()
    start = world.now
    async with client_for(world) as client:
        assert (await client.post(f"{ROOT}/_simulator/advance?days=2")).json() == {
            "now": "2026-03-04T06:00:00Z"
        }
        assert (await client.post("/_simulator/advance", params={"days": 0})).json() == {
            "now": "2026-03-04T06:00:00Z"
        }
        for bad in ("", "-1", "1.5", "two"):
            response = await client.post("/_simulator/advance", params={"days": bad})
            assert response.status_code == 400, bad
        assert (await client.get("/_simulator/advance?days=1")).status_code == 405
    assert (world.now - start).days == 2
