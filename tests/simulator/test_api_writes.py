"""The write endpoints end to end: Seatwatch's client against the simulator, effects checked in the world.

Each test builds its own small world (writes change it). What is checked: the documented effect on access
and status, the audit event a later run loads, ground truth, the write log, and every refusal as the
client's typed error (read-only key, user limit, unknown group/user/membership, synced group).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from pipeline.atlassian import (
    AdminApi,
    AdminClient,
    GroupNotFound,
    MembershipNotFound,
    UserLimitReached,
    UserNotFoundError,
    WriteForbidden,
)
from pipeline.config.secret import Secret
from pipeline.simulator.app import create_app
from pipeline.simulator.generate import ALL_STAFF, IDP_GROUP, SITE_ADMINS
from pipeline.simulator.model import ORG_ADMIN, FaultConfig, Group, Org, User
from pipeline.simulator.world import World
from pipeline.sources.atlassian_admin.mappers import audit_event_row
from tests.support.simulator_api import BASE_URL, client_for

pytestmark = pytest.mark.anyio

SMALL = 120  # users: enough for every kind of account, cheap to build


@asynccontextmanager
async def admin_api(world: World) -> AsyncIterator[AdminApi]:
    transport = httpx.ASGITransport(create_app(world))
    async with AdminClient(
        BASE_URL, Secret(world.api_key), transport=transport, backoff_base=0.001
    ) as client:
        yield AdminApi(client)


def _org(world: World) -> Org:
    return next(iter(world.orgs.values()))


def _group(org: Org, name: str) -> Group:
    return next(group for group in org.groups.values() if group.name == name)


def _single_product_member(org: Org, product: str = "confluence") -> tuple[Group, User]:
    """A human with access to ``product`` on the main site from exactly one group (and nothing else)."""
    site = org.sites[0].name
    group = _group(org, f"{product}-users-{site}")
    staff = _group(org, ALL_STAFF)
    for account_id in sorted(group.members):
        user = org.users[account_id]
        if (
            user.status == "active"
            and user.is_human
            and account_id not in staff.members
            and not user.direct_access
        ):
            return group, user
    raise AssertionError("no single-group member in this world")


async def _stream(api: AdminApi, org_id: str, since_ms: int) -> list[dict[str, Any]]:
    return [item async for page in api.iter_events_stream(org_id, from_ms=since_ms) for item in page.items]


def _seat(world: World, org: Org, user: User, product: str) -> set[tuple[str, str]]:
    return {seat for seat in world.product_access(org.id, user) if seat[0] == product}


async def test_removing_a_membership_frees_the_seat_and_leaves_an_audit_event(make_world) -> None:
    world: World = make_world(users=SMALL)
    org = _org(world)
    directory_id = org.directories[0].id
    group, user = _single_product_member(org)
    since = int(world.now.timestamp() * 1000) - 1
    before = world.seat_usage(org.id)[("confluence", org.sites[0].cloud_id)]

    async with admin_api(world) as api:
        old_events = await _stream(api, org.id, since)  # caches the stream's index before the write
        receipt = await api.remove_group_member(org.id, directory_id, group.id, user.account_id)
        events = await _stream(api, org.id, since)
        found = [
            item
            async for page in api.search_users(
                org.id, expand=["groups"], filters={"accountIds": [user.account_id]}
            )
            for item in page.items
        ]
        with pytest.raises(MembershipNotFound):
            await api.remove_group_member(org.id, directory_id, group.id, user.account_id)

    assert (receipt.status, receipt.at, receipt.attempts) == (204, world.now, 1)
    assert user.account_id not in group.members
    assert not _seat(world, org, user, "confluence")
    assert world.seat_usage(org.id)[("confluence", org.sites[0].cloud_id)] == before - 1
    truth = next(entry for entry in world.truth()["users"] if entry["account_id"] == user.account_id)
    assert not any(seat["has_access"] for seat in truth["seats"] if seat["product_key"] == "confluence")
    # The planner's fresh read: search by account id with the groups expanded shows the change at once.
    assert group.id not in {ref["id"] for ref in found[0]["groups"]}
    new = [event for event in events if event["id"] not in {old["id"] for old in old_events}]
    assert len(new) == 1
    attributes = new[0]["attributes"]
    owner = next(u for u in org.users.values() if ORG_ADMIN in u.platform_roles)
    assert attributes["action"] == "user_removed_from_group"
    assert attributes["actor"]["id"] == owner.account_id
    assert attributes["context"][0]["id"] == user.account_id
    assert attributes["processedAt"].startswith(world.now.strftime("%Y-%m-%dT%H:%M:%S"))
    assert group.name in new[0]["message"]["content"]
    # What the next run loads from it (the extract's own row mapper).
    row = audit_event_row(new[0], org.id)
    assert (row["action"], row["subject_account_id"], row["site_id"]) == (
        "user_removed_from_group",
        user.account_id,
        org.sites[0].cloud_id,
    )
    assert [(r.action, r.status, r.changed) for r in world.writes.log] == [
        ("remove_group_member", 204, True),
        ("remove_group_member", 404, False),
    ]
    assert world.writes.log[0].request_id == receipt.request_id and receipt.request_id


async def test_another_group_granting_the_same_product_keeps_the_access(make_world) -> None:
    world: World = make_world(users=SMALL)
    org = _org(world)
    directory_id = org.directories[0].id
    staff = _group(org, ALL_STAFF)
    confluence = _group(org, f"confluence-users-{org.sites[0].name}")
    user = next(
        org.users[a]
        for a in sorted(staff.members - confluence.members)
        if org.users[a].status == "active" and not org.users[a].platform_roles
    )

    async with admin_api(world) as api:
        await api.add_group_member(org.id, directory_id, confluence.id, user.account_id)
        await api.remove_group_member(org.id, directory_id, confluence.id, user.account_id)

    assert user.account_id not in confluence.members
    assert _seat(world, org, user, "confluence")  # all-staff grants Confluence on the main site too


async def test_re_adding_restores_access_and_adding_a_member_twice_changes_nothing(make_world) -> None:
    world: World = make_world(users=SMALL)
    org = _org(world)
    directory_id = org.directories[0].id
    group, user = _single_product_member(org)

    async with admin_api(world) as api:
        await api.remove_group_member(org.id, directory_id, group.id, user.account_id)
        events_before = len(org.events)
        added = await api.add_group_member(org.id, directory_id, group.id, user.account_id)
        again = await api.add_group_member(org.id, directory_id, group.id, user.account_id)

    assert (added.status, again.status) == (204, 204)
    assert user.account_id in group.members and _seat(world, org, user, "confluence")
    assert [event.action for event in org.events[events_before:]] == ["user_added_to_group"]
    assert [r.changed for r in world.writes.log] == [True, True, False]


async def test_re_adding_fails_when_the_products_user_limit_is_reached(make_world) -> None:
    world: World = make_world(users=SMALL)
    org = _org(world)
    directory_id = org.directories[0].id
    group, user = _single_product_member(org)

    async with admin_api(world) as api, client_for(world) as control:
        await api.remove_group_member(org.id, directory_id, group.id, user.account_id)
        billable = sum(
            1
            for u in org.users.values()
            if u.status == "active"
            and ("confluence", org.sites[0].cloud_id) in world.product_access(org.id, u)
        )
        response = await control.post(
            "/_simulator/user-limit",
            json={"product": "confluence", "cloudId": org.sites[0].cloud_id, "limit": billable},
        )
        assert response.status_code == 200, response.text
        with pytest.raises(UserLimitReached, match="user limit"):
            await api.add_group_member(org.id, directory_id, group.id, user.account_id)
        assert user.account_id not in group.members
        # Suspending a user who holds a seat of that product frees one: the add goes through.
        staff = _group(org, ALL_STAFF)
        holder = next(org.users[a] for a in sorted(staff.members) if org.users[a].status == "active")
        await api.suspend_user(org.id, directory_id, holder.account_id)
        await api.add_group_member(org.id, directory_id, group.id, user.account_id)

    assert user.account_id in group.members
    assert [r.status for r in world.writes.log] == [204, 409, 204, 204]


async def test_suspend_keeps_groups_and_restore_gives_access_back(make_world) -> None:
    world: World = make_world(users=SMALL)
    org = _org(world)
    directory_id = org.directories[0].id
    group, user = _single_product_member(org)
    seats = world.product_access(org.id, user)

    async with admin_api(world) as api:
        await api.suspend_user(org.id, directory_id, user.account_id)
        await api.suspend_user(org.id, directory_id, user.account_id)  # already suspended: no change
        listed = [
            item
            async for page in api.search_users(org.id, filters={"accountIds": [user.account_id]})
            for item in page.items
        ]
        assert (listed[0]["status"], listed[0]["membershipStatus"]) == ("suspended", "suspended")
        assert user.account_id in group.members  # memberships are kept for the restore
        truth = next(entry for entry in world.truth()["users"] if entry["account_id"] == user.account_id)
        assert truth["lifecycle_status"] == "suspended"
        await api.restore_user(org.id, directory_id, user.account_id)

    assert user.status == "active" and world.product_access(org.id, user) == seats
    assert [event.action for event in org.events[-2:]] == ["user_access_suspended", "user_access_restored"]
    assert [r.changed for r in world.writes.log] == [True, False, True]


async def test_a_read_only_key_may_read_but_every_write_is_refused(make_world) -> None:
    world: World = make_world(users=SMALL, read_only_key=True)
    org = _org(world)
    directory_id = org.directories[0].id
    group, user = _single_product_member(org)
    writes: list[Callable[[AdminApi], Any]] = [
        lambda api: api.remove_group_member(org.id, directory_id, group.id, user.account_id),
        lambda api: api.add_group_member(org.id, directory_id, group.id, user.account_id),
        lambda api: api.suspend_user(org.id, directory_id, user.account_id),
        lambda api: api.restore_user(org.id, directory_id, user.account_id),
    ]

    async with admin_api(world) as api:
        assert (await api.get_org(org.id))["id"] == org.id
        for write in writes:
            with pytest.raises(WriteForbidden) as caught:
                await write(api)
            assert world.api_key not in str(caught.value) and caught.value.exit_code == 2

    assert user.account_id in group.members and user.status == "active"
    assert [r.status for r in world.writes.log] == [403] * 4


async def test_unknown_groups_users_and_directories_are_typed_refusals(make_world) -> None:
    world: World = make_world(users=SMALL)
    org = _org(world)
    directory_id = org.directories[0].id
    group, user = _single_product_member(org)
    synced = _group(org, IDP_GROUP)

    async with admin_api(world) as api:
        with pytest.raises(GroupNotFound):
            await api.remove_group_member(org.id, directory_id, "no-such-group", user.account_id)
        with pytest.raises(UserNotFoundError):
            await api.add_group_member(org.id, directory_id, group.id, "no-such-user")
        with pytest.raises(UserNotFoundError):
            await api.suspend_user(org.id, directory_id, "no-such-user")
        with pytest.raises(ValueError, match="needs a directory id"):
            await api.suspend_user(org.id, "-", user.account_id)  # refused before any request
        member = sorted(synced.members)[0]
        with pytest.raises(WriteForbidden, match="identity provider"):
            await api.remove_group_member(org.id, directory_id, synced.id, member)

    async with client_for(world) as raw:
        everywhere = await raw.post(f"/v2/orgs/{org.id}/directories/-/users/{user.account_id}/suspend")
    assert everywhere.status_code == 400 and everywhere.json()["errors"][0]["code"] == "ADMIN-UAM-400-1"
    assert member in synced.members and user.status == "active"


async def test_admin_roles_are_not_group_grants_so_removal_keeps_them(make_world) -> None:
    world: World = make_world(users=SMALL)
    org = _org(world)
    directory_id = org.directories[0].id
    admins = _group(org, SITE_ADMINS)
    site_admin = org.users[sorted(admins.members)[0]]
    org_admin = next(u for u in org.users.values() if ORG_ADMIN in u.platform_roles)
    staff = _group(org, ALL_STAFF)

    async with admin_api(world) as api:
        await api.remove_group_member(org.id, directory_id, admins.id, site_admin.account_id)
        await api.remove_group_member(org.id, directory_id, staff.id, org_admin.account_id)
        listed = {
            item["accountId"]: item["platformRoles"]
            async for page in api.search_users(
                org.id,
                expand=["platformRoles"],
                filters={"accountIds": [site_admin.account_id, org_admin.account_id]},
            )
            for item in page.items
        }

    assert listed[org_admin.account_id] == [ORG_ADMIN]
    assert listed[site_admin.account_id] == site_admin.platform_roles != []


async def test_writes_are_rate_limited_like_reads(make_world) -> None:
    world: World = make_world(users=SMALL, rate_limits={"events": 100, "last_active": 100, "default": 2})
    org = _org(world)
    _, user = _single_product_member(org)
    path = f"/v2/orgs/{org.id}/directories/{org.directories[0].id}/users/{user.account_id}/suspend"

    async with client_for(world) as raw:
        answers = [await raw.post(path) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [204, 204, 429]
    assert answers[0].headers["x-ratelimit-remaining"] == "1"
    assert answers[2].json() == {"code": 429, "message": "Rate limit exceeded"}
    assert len(world.writes.log) == 2  # the refused request never reached the endpoint


async def test_activity_can_be_added_now_and_is_visible_at_once(make_world) -> None:
    world: World = make_world(users=SMALL)
    org = _org(world)
    _, user = _single_product_member(org)

    async with client_for(world) as control:
        response = await control.post(
            "/_simulator/activity", json={"accountId": user.account_id, "product": "confluence"}
        )
        refused = await control.post(
            "/_simulator/activity", json={"accountId": user.account_id, "product": "jira-servicedesk"}
        )
        dates = await control.get(f"/v1/orgs/{org.id}/directory/users/{user.account_id}/last-active-dates")

    assert response.status_code == 200, response.text
    assert response.json()["at"] == world.activity_complete_through.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert refused.status_code == 400 and "no access" in refused.text
    shown = {item["key"]: item["last_active"] for item in dates.json()["data"]["product_access"]}
    assert shown["confluence"] == world.activity_complete_through.date().isoformat()
    truth = next(entry for entry in world.truth()["users"] if entry["account_id"] == user.account_id)
    assert truth["lifecycle_status"] == "active" and truth["days_since_last_active"] == 0


async def test_the_write_log_is_served_for_tests_and_demos(make_world) -> None:
    world: World = make_world(users=SMALL)
    org = _org(world)
    group, user = _single_product_member(org)

    async with admin_api(world) as api, client_for(world) as control:
        receipt = await api.remove_group_member(org.id, org.directories[0].id, group.id, user.account_id)
        log = (await control.get("/_simulator/writes")).json()["data"]

    assert log == [
        {
            "at": world.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "org_id": org.id,
            "action": "remove_group_member",
            "account_id": user.account_id,
            "group_id": group.id,
            "status": 204,
            "changed": True,
            "request_id": receipt.request_id,
            "answer_lost": False,
        }
    ]


async def test_a_lost_answer_is_a_write_carried_out_then_answered_504(make_world) -> None:
    world: World = make_world(users=SMALL, faults=FaultConfig(lose_first_writes=True))
    org = _org(world)
    directory_id = org.directories[0].id
    group, user = _single_product_member(org)

    async with admin_api(world) as api:
        with pytest.raises(MembershipNotFound) as refused:
            await api.remove_group_member(org.id, directory_id, group.id, user.account_id)
        added = await api.add_group_member(org.id, directory_id, group.id, user.account_id)
        # The second removal of the same membership is not a first write any more: answered as usual.
        await api.remove_group_member(org.id, directory_id, group.id, user.account_id)

    # The first DELETE removed the membership and was answered 504; its retry found nothing to remove.
    assert refused.value.attempts == 2
    assert added.attempts == 2  # the add's first answer was lost too; its retry changed nothing
    assert [(r.action, r.status, r.changed, r.answer_lost) for r in world.writes.log] == [
        ("remove_group_member", 204, True, True),
        ("remove_group_member", 404, False, False),
        ("add_group_member", 204, True, True),
        ("add_group_member", 204, False, False),
        ("remove_group_member", 204, True, False),
    ]
    assert user.account_id not in group.members


async def test_the_lost_answer_rate_loses_changes_never_their_retries(make_world) -> None:
    world: World = make_world(users=SMALL, faults=FaultConfig(lost_answer_rate=1.0))
    org = _org(world)
    directory_id = org.directories[0].id
    members = sorted(_group(org, ALL_STAFF).members)[:6]
    async with admin_api(world) as api:
        receipts = [await api.suspend_user(org.id, directory_id, account_id) for account_id in members]

    # Each suspension was carried out, its answer lost (504 or a dropped connection); the retry, which
    # changed nothing, was answered.
    assert [r.attempts for r in receipts] == [2] * 6
    assert all(org.users[a].membership_status == "suspended" for a in members)
    assert [(r.changed, r.answer_lost) for r in world.writes.log] == [(True, True), (False, False)] * 6
