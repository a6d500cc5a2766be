"""Users: v2 GET and search (paging, filters, expand), v1 managed accounts, role assignments."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pipeline.simulator import serialize
from pipeline.simulator.world import World
from tests.support.simulator_api import client_for, collect_v2_users

pytestmark = pytest.mark.anyio


async def test_v2_get_pages_every_user_100_at_a_time(api, world: World, org_id: str) -> None:
    items, pages = await collect_v2_users(api, org_id, search=False)
    assert [item["accountId"] for item in items] == sorted(world.orgs[org_id].users)
    assert len(pages) == -(-len(items) // 100)
    first = items[0]
    assert {"accountId", "accountType", "status", "accountStatus", "membershipStatus", "addedToOrg"} <= set(
        first
    )
    assert "productAccess" not in first and "groups" not in first  # only search expands


async def test_v2_search_pages_every_user_and_matches_get(api, world: World, org_id: str) -> None:
    searched, _ = await collect_v2_users(api, org_id, search=True)
    listed, _ = await collect_v2_users(api, org_id, search=False)
    assert searched == listed


async def test_same_seed_gives_byte_identical_pages(make_world: Callable[..., World], org_id: str) -> None:
    bodies = []
    for _ in range(2):
        client_world = make_world()
        async with client_for(client_world) as client:
            _, get_pages = await collect_v2_users(client, org_id, search=False)
            _, search_pages = await collect_v2_users(
                client, org_id, search=True, body={"expand": ["productAccess", "groups"]}
            )
            others = [
                await client.get(f"/v1/orgs/{org_id}/users"),
                await client.get(f"/v1/orgs/{org_id}/events-stream", params={"limit": 1000}),
                await client.get(f"/v1/orgs/{org_id}/events"),
                await client.post(f"/v2/orgs/{org_id}/workspaces", json={}),
                await client.get(f"/v2/orgs/{org_id}/directories/-/groups"),
            ]
            user = next(iter(client_world.orgs[org_id].users))
            others.append(await client.get(f"/v1/orgs/{org_id}/directory/users/{user}/last-active-dates"))
            bodies.append(get_pages + search_pages + [response.content for response in others])
    assert bodies[0] == bodies[1]


async def test_default_and_maximum_page_size(api, org_id: str) -> None:
    path = f"/v2/orgs/{org_id}/directories/-/users"
    assert len((await api.get(path)).json()["data"]) == 50
    assert len((await api.post(f"{path}/search", json={})).json()["data"]) == 50
    for bad in ("101", "0", "ten"):
        response = await api.get(path, params={"limit": bad})
        assert response.status_code == 400
        assert response.json()["errors"][0]["code"] == "ADMIN-UAM-400-1"
    assert (await api.post(f"{path}/search", json={"limit": 101})).status_code == 400


async def test_a_cursor_discards_the_other_parameters(api, org_id: str) -> None:
    path = f"/v2/orgs/{org_id}/directories/-/users"
    first = (await api.get(path, params={"limit": 5, "status": "active"})).json()
    cursor = first["links"]["next"]
    plain = (await api.get(path, params={"cursor": cursor})).json()
    noisy = (await api.get(path, params={"cursor": cursor, "limit": 99, "status": "suspended"})).json()
    assert plain == noisy
    assert len(plain["data"]) == 5 and all(user["status"] == "active" for user in plain["data"])


async def test_array_filters_accept_repeated_keys_and_commas(api, world: World, org_id: str) -> None:
    org = world.orgs[org_id]
    groups = sorted(org.groups.values(), key=lambda group: len(group.members))[-2:]
    path = f"/v2/orgs/{org_id}/directories/-/users"
    repeated = await api.get(f"{path}?groupIds={groups[0].id}&groupIds={groups[1].id}&limit=100")
    commas = await api.get(path, params={"groupIds": f"{groups[0].id},{groups[1].id}", "limit": 100})
    assert repeated.json()["data"] == commas.json()["data"]
    members = (groups[0].members | groups[1].members) & set(org.users)
    assert {user["accountId"] for user in repeated.json()["data"]} == set(sorted(members)[:100])


async def test_group_membership_through_the_group_ids_filter(api, world: World, org_id: str) -> None:
    org = world.orgs[org_id]
    for group in org.groups.values():
        found, cursor = [], None
        while True:
            params = {"cursor": cursor} if cursor else {"groupIds": group.id, "limit": 100}
            page = (await api.get(f"/v2/orgs/{org_id}/directories/-/users", params=params)).json()
            found += [user["accountId"] for user in page["data"]]
            if not (cursor := page["links"]["next"]):
                break
        assert set(found) == group.members & set(org.users), group.name


@pytest.mark.parametrize(
    ("params", "attribute", "allowed"),
    [
        ({"status": "suspended,deactivated"}, "status", {"suspended", "deactivated"}),
        ({"accountStatus": "inactive"}, "accountStatus", {"inactive"}),
        (
            {"membershipStatus": ["no_membership", "suspended"]},
            "membershipStatus",
            {"no_membership", "suspended"},
        ),
        ({"claimStatus": "unmanaged"}, "claimStatus", {"unmanaged"}),
        ({"mfaEnabled": "false"}, "mfaEnabled", {False}),
    ],
)
async def test_status_filters(api, world: World, org_id: str, params, attribute, allowed) -> None:
    response = await api.get(f"/v2/orgs/{org_id}/directories/-/users", params={**params, "limit": 100})
    users = response.json()["data"]
    assert users, params
    assert {user[attribute] for user in users} <= allowed


async def test_unknown_enum_values_are_refused(api, org_id: str) -> None:
    path = f"/v2/orgs/{org_id}/directories/-/users"
    assert (await api.get(path, params={"status": "invited"})).status_code == 400
    assert (await api.post(f"{path}/search", json={"expand": ["everything"]})).status_code == 400


async def test_search_term_and_emails(api, world: World, org_id: str) -> None:
    user = next(user for user in world.orgs[org_id].users.values() if user.email)
    path = f"/v2/orgs/{org_id}/directories/-/users/search"
    by_email = (await api.post(path, json={"emails": [user.email.upper()]})).json()["data"]
    assert [found["accountId"] for found in by_email] == [user.account_id]
    by_term = (await api.post(path, json={"searchTerm": user.nickname, "limit": 100})).json()["data"]
    assert user.account_id in {found["accountId"] for found in by_term}
    both = await api.post(path, json={"searchTerm": "a", "emails": [user.email]})
    assert both.status_code == 400
    assert both.json()["errors"][0]["status"] == "400"


async def test_sort_by_nickname_descending(api, org_id: str) -> None:
    body = {"sortBy": [{"field": "nick_name", "direction": "desc"}], "limit": 100}
    users = (await api.post(f"/v2/orgs/{org_id}/directories/-/users/search", json=body)).json()["data"]
    keys = [(user["nickname"].lower(), user["accountId"]) for user in users]
    assert keys == sorted(keys, reverse=True)


async def test_search_expand_product_access_groups_and_roles(api, world: World, org_id: str) -> None:
    org = world.orgs[org_id]
    body = {"expand": ["productAccess", "groups", "platformRoles", "counts.resources"]}
    items, _ = await collect_v2_users(api, org_id, search=True, body=body)
    never_visible = 0
    for item in items:
        user = org.users[item["accountId"]]
        seats = world.product_access(org_id, user)
        visible = {(key, cloud): moment for key, cloud, moment in world.visible_last_active(org_id, user)}
        assert [(access["key"], access["id"]) for access in item["productAccess"]] == [
            (serialize.api_product_key(key, "v2"), serialize.ari(key, cloud, "v2")) for key, cloud in seats
        ]
        for access, seat in zip(item["productAccess"], seats, strict=True):
            if seat in visible:
                assert access["lastActiveTimestamp"] == visible[seat].strftime("%Y-%m-%dT%H:%M:%SZ")
            else:
                assert "lastActiveTimestamp" not in access
                never_visible += 1
        assert {group["id"] for group in item["groups"]} == {g.id for g in world.user_groups(org_id, user)}
        assert set(item["groups"][0]) == {"id", "name", "description"} if item["groups"] else True
        assert item["platformRoles"] == user.platform_roles
        grants = serialize.user_grants(user, world.user_groups(org_id, user), "v2")
        assert item["counts"] == {"resources": len(grants)}
        assert item["counts"]["resources"] >= len(seats)  # the admin role on jira-admin counts as well
    assert never_visible, "the world should hold seats never used"


async def test_a_specific_directory_and_unknown_directories(api, world: World, org_id: str) -> None:
    org = world.orgs[org_id]
    directory = org.directories[0].id
    response = await api.get(f"/v2/orgs/{org_id}/directories/{directory}/users", params={"limit": 100})
    assert response.status_code == 200
    assert all(user["membershipStatus"] != "no_membership" for user in response.json()["data"])
    unknown = await api.get(f"/v2/orgs/{org_id}/directories/not-a-directory/users")
    assert unknown.status_code == 404


async def test_directories(api, world: World, org_id: str) -> None:
    body = (await api.get(f"/v2/orgs/{org_id}/directories")).json()
    assert body["data"] == [
        {"directoryId": d.id, "name": d.name, "icon": None} for d in world.orgs[org_id].directories
    ]
    assert body["links"]["next"] is None


async def test_v1_users_are_managed_accounts_in_snake_case(api, world: World, org_id: str) -> None:
    org = world.orgs[org_id]
    managed = sorted(user.account_id for user in org.users.values() if user.claim_status == "managed")
    assert len(managed) < len(org.users), "the world should hold unmanaged accounts too"
    found, url, pages = [], f"/v1/orgs/{org_id}/users", 0
    while url:
        body = (await api.get(url)).json()
        pages += 1
        assert body["meta"]["total"] == len(managed)
        for item in body["data"]:
            assert {"account_id", "account_type", "account_status", "name", "picture", "links"} <= set(item)
            assert "accountId" not in item
            for product in item["product_access"]:
                assert set(product) <= {"key", "name", "url", "last_active"}
        found += [item["account_id"] for item in body["data"]]
        url = body["links"].get("next")
        assert url is None or url.startswith("http://sim.test/admin/v1/orgs/")
    assert found == managed
    assert pages == -(-len(managed) // 100)


async def test_user_role_assignments_name_the_method(api, world: World, org_id: str) -> None:
    org = world.orgs[org_id]
    direct = next(user for user in org.users.values() if user.direct_access)
    body = (
        await api.get(f"/v2/orgs/{org_id}/directories/-/users/{direct.account_id}/role-assignments")
    ).json()
    methods = {
        (item["resourceId"], assignment["role"]): assignment["roleAssignmentMethods"]
        for item in body["data"]
        for assignment in item["roleAssignments"]
    }
    for key, cloud in direct.direct_access:
        assert "direct" in methods[(serialize.ari(key, cloud, "v2"), "atlassian/user")]
    grouped = next(
        user for user in org.users.values() if not user.direct_access and world.user_groups(org_id, user)
    )
    body = (
        await api.get(f"/v2/orgs/{org_id}/directories/-/users/{grouped.account_id}/role-assignments")
    ).json()
    assert body["data"]
    assert all(
        a["roleAssignmentMethods"] == ["group_direct"] for i in body["data"] for a in i["roleAssignments"]
    )
    missing = await api.get(f"/v2/orgs/{org_id}/directories/-/users/nobody/role-assignments")
    assert missing.status_code == 404


async def test_users_count_follows_the_same_filters(api, world: World, org_id: str) -> None:
    path = f"/v2/orgs/{org_id}/directories/-/users/count"
    everyone = await api.get(path)
    assert everyone.status_code == 200 and everyone.json() == {"count": len(world.orgs[org_id].users)}
    suspended = await api.get(path, params={"membershipStatus": "suspended"})
    expected = sum(user.membership_status == "suspended" for user in world.orgs[org_id].users.values())
    assert suspended.json() == {"count": expected} and 0 < expected < len(world.orgs[org_id].users)
