"""The audit log: /events (search, newest first), /events-stream (polling) and /event-actions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from pipeline.simulator.world import World
from tests.support.simulator_api import client_for

pytestmark = pytest.mark.anyio


def _ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


async def _walk_events(api, org_id: str, **params) -> list[dict]:
    items, response = [], await api.get(f"/v1/orgs/{org_id}/events", params=params)
    while True:
        body = response.json()
        items += body["data"]
        if "next" not in body["meta"]:
            assert "next" not in body["links"]
            return items
        assert body["links"]["next"].endswith(f"cursor={body['meta']['next']}")
        response = await api.get(body["links"]["next"])


async def test_events_are_newest_first_with_both_next_forms(api, world: World, org_id: str) -> None:
    items = await _walk_events(api, org_id, limit=100)
    expected = sorted(world.audit_events(org_id), key=lambda event: (event.time, event.id), reverse=True)
    assert [item["id"] for item in items] == [event.id for event in expected]
    first = (await api.get(f"/v1/orgs/{org_id}/events")).json()
    assert first["meta"]["page_size"] == 25 and len(first["data"]) == 25


async def test_events_filters(api, world: World, org_id: str) -> None:
    events = world.audit_events(org_id)
    middle = sorted(event.time for event in events)[len(events) // 2]
    start, end = _ms(middle), _ms(middle) + 3 * 86_400_000
    windowed = await _walk_events(api, org_id, limit=200, **{"from": start, "to": end})
    assert {item["id"] for item in windowed} == {e.id for e in events if start <= _ms(e.time) <= end}
    invites = await _walk_events(api, org_id, action="user_invited", limit=200)
    assert invites and {item["attributes"]["action"] for item in invites} == {"user_invited"}


async def test_event_shape(api, world: World, org_id: str) -> None:
    event = next(e for e in world.audit_events(org_id) if e.cloud_id and e.subject_account_id)
    item = (await api.get(f"/v1/orgs/{org_id}/events/{event.id}")).json()["data"]
    attributes = item["attributes"]
    assert item["type"] == "events" and item["message"] == {"content": event.message, "format": "simple"}
    assert item["links"]["self"] == f"http://sim.test/admin/v1/orgs/{org_id}/events/{event.id}"
    assert attributes["actor"]["id"] == event.actor_id
    (subject,) = attributes["context"]
    assert subject["id"] == event.subject_account_id and subject["type"] == "users"
    assert {"email", "name", "accountType"} >= set(subject["attributes"])
    (site,) = attributes["container"]
    assert site["type"] == "sites" and site["id"] == event.cloud_id
    assert site["attributes"]["siteHostName"] == event.site_host
    assert set(attributes["location"]) == {"ip", "countryName", "city"}
    assert "processedAt" not in attributes  # only the stream carries it
    missing = await api.get(f"/v1/orgs/{org_id}/events/no-such-event")
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "ADMIN-404-4"


@pytest.mark.parametrize(
    "params", [{"from": "yesterday"}, {"to": "1.5e12"}, {"from": "1700000000000", "to": "1600000000000"}]
)
async def test_bad_times_are_admin_400_3(api, org_id: str, params) -> None:
    for path in ("events", "events-stream"):
        response = await api.get(f"/v1/orgs/{org_id}/{path}", params=params)
        assert response.status_code == 400
        (error,) = response.json()["errors"]
        assert error["code"] == "ADMIN-400-3" and error["status"] == "400"


async def _drain_stream(client, org_id: str, cursor: str | None = None, **params) -> tuple[list[dict], str]:
    """Every event the stream has now, and the cursor to poll with later."""
    items = []
    while True:
        query = {"cursor": cursor} if cursor else params
        body = (await client.get(f"/v1/orgs/{org_id}/events-stream", params=query)).json()
        items += body["data"]
        assert body["meta"]["next"], "a cursor comes back even on the last page"
        assert body["links"]["next"].endswith(f"cursor={body['meta']['next']}")
        cursor = body["meta"]["next"]
        if not body["data"]:
            return items, cursor


async def test_events_stream_in_processing_order(api, world: World, org_id: str) -> None:
    items, _ = await _drain_stream(api, org_id, limit=500)
    assert [item["id"] for item in items] == [event.id for event in world.audit_events(org_id)]
    processed = [item["attributes"]["processedAt"] for item in items]
    assert processed == sorted(processed)
    assert all("time" in item["attributes"] for item in items)
    first = (await api.get(f"/v1/orgs/{org_id}/events-stream")).json()
    assert first["meta"]["page_size"] == 200


async def test_events_stream_descending(api, world: World, org_id: str) -> None:
    items, _ = await _drain_stream(api, org_id, limit=500, sortOrder="desc")
    assert [item["id"] for item in items] == [event.id for event in reversed(world.audit_events(org_id))]


async def test_polling_the_last_cursor_yields_new_events_after_advance(
    make_world: Callable[..., World],
) -> None:
    world = make_world()
    org_id = next(iter(world.orgs))
    async with client_for(world) as client:
        seen, cursor = await _drain_stream(client, org_id, limit=500)
        again, same_cursor = await _drain_stream(client, org_id, cursor)
        assert again == [] and same_cursor == cursor
        await client.post("/_simulator/advance?days=3")
        new, _ = await _drain_stream(client, org_id, cursor)
    assert new, "three simulated days bring new audit events"
    seen_ids = {item["id"] for item in seen}
    assert not seen_ids & {item["id"] for item in new}
    assert seen_ids | {item["id"] for item in new} >= {e.id for e in world.audit_events(org_id)}


async def test_event_actions_list_every_action_used(api, world: World, org_id: str) -> None:
    body = (await api.get(f"/v1/orgs/{org_id}/event-actions")).json()
    keys = {item["id"] for item in body["data"]}
    assert {event.action for event in world.audit_events(org_id)} <= keys
    assert all(set(item["attributes"]) == {"displayName", "groupDisplayName"} for item in body["data"])
