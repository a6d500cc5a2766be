"""last-active-dates for every user, the 24-hour lag end to end, and ``advance``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.simulator.world import World
from tests.support.simulator_api import client_for

pytestmark = pytest.mark.anyio


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_every_users_last_active_dates_follow_the_doc(api, world: World, org_id: str) -> None:
    never_active = 0
    for user in world.orgs[org_id].users.values():
        response = await api.get(f"/v1/orgs/{org_id}/directory/users/{user.account_id}/last-active-dates")
        assert response.status_code == 200
        expected = [
            {
                "id": f"ari:cloud:{key}::site/{cloud}",
                "key": key,
                "last_active": moment.date().isoformat(),
                "last_active_timestamp": _iso(moment),
            }
            for key, cloud, moment in world.visible_last_active(org_id, user)
        ]
        assert response.json() == {
            "data": {
                "product_access": expected,
                "added_to_org": user.added_to_org.date().isoformat(),
                "added_to_org_timestamp": _iso(user.added_to_org),
            },
            "links": {},
        }
        never_active += not expected
    assert never_active, "some users (invited, bots, never-users) have no visible activity"


async def test_unknown_and_removed_accounts_are_404(make_world: Callable[..., World]) -> None:
    world = make_world()
    world.advance(30)  # evolution removes some users from the directory
    org = next(iter(world.orgs.values()))
    assert org.removed_users, "30 days of evolution should remove someone"
    async with client_for(world) as client:
        for account_id in ("5b10ac8d82e05b22cc7d4ef5", next(iter(org.removed_users))):
            response = await client.get(f"/v1/orgs/{org.id}/directory/users/{account_id}/last-active-dates")
            assert response.status_code == 404
            (error,) = response.json()["errors"]
            assert error["code"] == "ADMIN-404-8" and error["status"] == "404"


def _hidden_visit(world: World, org_id: str) -> tuple[str, tuple[str, str], datetime]:
    """A visit within the last ``lag`` hours: not visible now, visible after one more day."""
    cutoff, now = world.activity_complete_through, world.now
    for user in world.orgs[org_id].users.values():
        for seat, stamps in sorted(user.activity.items()):
            hidden = [
                datetime.fromtimestamp(s, UTC)
                for s in stamps
                if cutoff < datetime.fromtimestamp(s, UTC) < now
            ]
            if hidden:
                return user.account_id, seat, max(hidden)
    raise AssertionError("no activity hidden by the lag")


async def test_activity_becomes_visible_after_advance(make_world: Callable[..., World]) -> None:
    world = make_world()
    org_id = next(iter(world.orgs))
    account_id, (key, cloud), visit = _hidden_visit(world, org_id)
    ari = f"ari:cloud:{key}::site/{cloud}"
    path = f"/v1/orgs/{org_id}/directory/users/{account_id}/last-active-dates"
    search = f"/v2/orgs/{org_id}/directories/-/users/search"
    body = {"accountIds": [account_id], "expand": ["productAccess"]}

    async def shown() -> tuple[str | None, str | None]:
        dates = (await client.get(path)).json()["data"]["product_access"]
        v1 = next((item["last_active_timestamp"] for item in dates if item["id"] == ari), None)
        (user,) = (await client.post(search, json=body)).json()["data"]
        v2 = next(
            (item.get("lastActiveTimestamp") for item in user["productAccess"] if item["id"] == ari), None
        )
        return v1, v2

    async with client_for(world) as client:
        before = await shown()
        assert all(value is None or value < _iso(visit) for value in before), "hidden by the lag"
        response = await client.post("/_simulator/advance", params={"days": 1})
        assert response.json() == {"now": _iso(world.now)}
        assert world.now == datetime(2026, 3, 3, 6, tzinfo=UTC)
        v1, v2 = await shown()
        assert v1 is not None and v1 >= _iso(visit), "visible once now >= visit + lag"
        assert v2 == v1 or v2 is None  # v2 lists the seat only while the user can still use it


async def test_date_header_follows_the_simulated_clock(make_world: Callable[..., World]) -> None:
    world = make_world()
    async with client_for(world) as client:
        assert (await client.get("/v1/orgs")).headers["date"] == "Mon, 02 Mar 2026 06:00:00 GMT"
        advanced = await client.post("/_simulator/advance?days=2")
        assert advanced.headers["date"] == "Wed, 04 Mar 2026 06:00:00 GMT"
        assert (await client.get("/v1/orgs")).headers["date"] == "Wed, 04 Mar 2026 06:00:00 GMT"
    assert world.now - timedelta(days=2) == datetime(2026, 3, 2, 6, tzinfo=UTC)
