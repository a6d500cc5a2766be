"""The API's documented variants (``--product-keys``, ``--product-access``, ``--reset-precision``,
``--scoped-key``, ``--read-only-key``), the undocumented ``--activity-after-removal``, JSON errors on unknown
routes, and the org's domains link."""

from __future__ import annotations

import argparse
from email.utils import parsedate_to_datetime

import pytest

from pipeline.commands import simulator as command
from pipeline.config.errors import ConfigurationError
from pipeline.simulator.model import V2_PRODUCT_KEYS
from tests.support.simulator_api import client_for, collect_v2_users

pytestmark = pytest.mark.anyio


async def _product_access(world, org_id: str) -> dict[str, list[dict]]:
    async with client_for(world) as api:
        items, _ = await collect_v2_users(api, org_id, search=True, body={"expand": ["productAccess"]})
    return {item["accountId"]: item["productAccess"] for item in items}


async def test_v2_keys_on_v2_endpoints_and_v1_keys_in_last_active_dates(make_world) -> None:
    world = make_world(product_keys="v2")
    org_id = next(iter(world.orgs))
    access = await _product_access(world, org_id)
    keys = {item["key"] for items in access.values() for item in items}
    assert keys == {"jira", "confluence", "jira-servicedesk"}
    assert all(
        item["id"].startswith(f"ari:cloud:{item['key']}::site/") for v in access.values() for item in v
    )
    user = next(u for u in world.orgs[org_id].users.values() if world.visible_last_active(org_id, u))
    async with client_for(world) as api:
        body = (
            await api.get(f"/v1/orgs/{org_id}/directory/users/{user.account_id}/last-active-dates")
        ).json()
        roles = (await api.post(f"/v2/orgs/{org_id}/directories/-/groups/search", json={"limit": 100})).json()
        owners = set()
        for group in roles["data"]:
            path = f"/v2/orgs/{org_id}/directories/-/groups/{group['id']}/role-assignments"
            owners |= {item["resourceOwner"] for item in (await api.get(path)).json()["data"]}
    v1_keys = {item["key"] for item in body["data"]["product_access"]}
    assert v1_keys and v1_keys <= {"jira-software", "confluence", "jira-service-desk"}
    # a Jira admin role sits on the jira-admin resource, as in real role-assignment ids
    assert "jira-admin" in owners and "jira-software" not in owners


async def test_v1_keys_everywhere(make_world) -> None:
    world = make_world(product_keys="v1")
    access = await _product_access(world, next(iter(world.orgs)))
    keys = {item["key"] for items in access.values() for item in items}
    assert keys == {"jira-software", "confluence", "jira-service-desk"}


async def test_product_access_used_lists_only_products_with_activity(make_world) -> None:
    everything = await _product_access(make_world(product_access="all"), next(iter(make_world().orgs)))
    world = make_world(product_access="used")
    used = await _product_access(world, next(iter(world.orgs)))
    assert all("lastActiveTimestamp" in item for items in used.values() for item in items)
    unused = [item for items in everything.values() for item in items if "lastActiveTimestamp" not in item]
    assert unused, "the world must have accessible but unused products for this test to mean anything"
    for account_id, items in everything.items():
        assert used[account_id] == [item for item in items if "lastActiveTimestamp" in item]


async def test_reset_precision_minute_truncates_the_reset(make_world) -> None:
    world = make_world(reset_precision="minute")
    async with client_for(world) as api:
        response = await api.get("/v1/orgs")
    reset = response.headers["X-RateLimit-Reset"]
    assert reset.endswith(":00Z")
    assert parsedate_to_datetime(response.headers["Date"]).second == world.now.second


async def test_scoped_key_is_refused_by_the_events_endpoints_only(make_world) -> None:
    world = make_world(scoped_key=True)
    org_id = next(iter(world.orgs))
    async with client_for(world) as api:
        for path in ("events", "events-stream", "event-actions"):
            refused = await api.get(f"/v1/orgs/{org_id}/{path}")
            assert refused.status_code == 401
            assert refused.json()["errors"][0]["code"] == "ADMIN-401-2"
        assert (await api.get(f"/v1/orgs/{org_id}")).status_code == 200
        assert (await api.get(f"/v2/orgs/{org_id}/directories")).status_code == 200


async def test_unknown_routes_answer_json_errors_and_the_domains_link_is_served(api, org_id: str) -> None:
    for method, path in (("GET", "/v9/nothing"), ("GET", f"/v1/orgs/{org_id}/nope"), ("DELETE", "/v1/orgs")):
        response = await api.request(method, path)
        assert response.status_code in (404, 405)
        assert response.headers["content-type"] == "application/json"
        assert response.json()["errors"][0]["code"] in ("ADMIN-404-1", "ADMIN-405-1")
    org = (await api.get(f"/v1/orgs/{org_id}")).json()["data"]
    link = org["relationships"]["domains"]["links"]["related"]
    domains = await api.get(link.removeprefix("http://sim.test/admin"))
    assert domains.status_code == 200
    assert domains.json()["data"][0]["attributes"]["name"].endswith(".com")


def _args(**flags) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    argv = ["simulator"] + [part for flag, value in flags.items() for part in (f"--{flag}", value)]
    return parser.parse_args(argv)


def test_variant_flags_and_environment() -> None:
    values = command._resolve(_args(**{"product-keys": "v1"}), {"SEATWATCH_SIM_PRODUCT_ACCESS": "used"})
    config = command.build_config(values)
    assert (config.product_keys, config.product_access, config.reset_precision) == ("v1", "used", "second")
    values = command._resolve(
        _args(), {"SEATWATCH_SIM_SCOPED_KEY": "1", "SEATWATCH_SIM_RESET_PRECISION": "minute"}
    )
    config = command.build_config(values)
    assert config.scoped_key and config.reset_precision == "minute" and config.product_keys == "v2"
    assert not config.read_only_key
    assert command.build_config(
        command._resolve(_args(), {"SEATWATCH_SIM_READ_ONLY_KEY": "yes"})
    ).read_only_key
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    flagged = parser.parse_args(["simulator", "--read-only-key"])
    assert command.build_config(command._resolve(flagged, {})).read_only_key
    with pytest.raises(ConfigurationError, match="--product-keys 'v3'"):
        command._resolve(_args(**{"product-keys": "v3"}), {})


async def test_renamed_activity_key_reaches_both_last_active_shapes(make_world) -> None:
    world = make_world(activity_key_renames={"jira-software": "jira-unicorn"})
    org_id = next(iter(world.orgs))
    access = await _product_access(world, org_id)
    assert "jira-unicorn" in {item["key"] for items in access.values() for item in items}
    user = next(
        u for u in world.orgs[org_id].users.values()
        if any(key == "jira-software" for key, _, _ in world.visible_last_active(org_id, u))
    )  # fmt: skip
    async with client_for(world) as api:
        body = (
            await api.get(f"/v1/orgs/{org_id}/directory/users/{user.account_id}/last-active-dates")
        ).json()
    assert "jira-unicorn" in {item["key"] for item in body["data"]["product_access"]}
    values = command._resolve(_args(**{"rename-activity-key": "jira-software=jira-unicorn"}), {})
    assert command.build_config(values).activity_key_renames == {"jira-software": "jira-unicorn"}


@pytest.mark.parametrize("behaviour", ["drop", "keep"])
async def test_activity_after_removal_drops_or_keeps_the_ex_seat_in_last_active_dates_only(
    make_world, behaviour: str
) -> None:
    world = make_world(activity_after_removal=behaviour)
    org_id = next(iter(world.orgs))
    org = world.orgs[org_id]
    # a used seat granted by one group only: removing the membership ends the access
    user, group, seat = next(
        (user, group, seat)
        for user in org.users.values()
        for key, cloud, _ in world.visible_last_active(org_id, user)
        for seat in [(key, cloud)]
        if not user.direct_access
        for group in [g for g in world.user_groups(org_id, user) if seat in g.product_seats()]
        if sum(seat in g.product_seats() for g in world.user_groups(org_id, user)) == 1
    )
    group.members.discard(user.account_id)
    world.changed()
    assert seat not in world.product_access(org_id, user)
    async with client_for(world) as api:
        dates = (
            await api.get(f"/v1/orgs/{org_id}/directory/users/{user.account_id}/last-active-dates")
        ).json()["data"]["product_access"]
    cloud_ids = {item["id"].rsplit("/", 1)[1] for item in dates if item["key"] == seat[0]}
    assert (seat[1] in cloud_ids) == (behaviour == "keep")
    # productAccess lists access: never the ex-seat, whatever the behaviour
    access = await _product_access(world, org_id)
    listed = {(item["key"], item["id"].rsplit("/", 1)[1]) for item in access[user.account_id]}
    assert (V2_PRODUCT_KEYS[seat[0]], seat[1]) not in listed
    # a product lost before the world started (generated pre-history, no event for the loss) stays hidden
    lost = next(u for u in org.users.values() if u.lost_before_start)
    shown = {(key, cloud) for key, cloud, _ in world.visible_last_active(org_id, lost)}
    assert not shown & lost.lost_before_start
    values = command._resolve(_args(**{"activity-after-removal": behaviour}), {})
    assert command.build_config(values).activity_after_removal == behaviour
    assert command.build_config(command._resolve(_args(), {})).activity_after_removal == "drop"
    with pytest.raises(ConfigurationError, match="--activity-after-removal 'forget'"):
        command._resolve(_args(**{"activity-after-removal": "forget"}), {})
