"""Groups (list, search, role assignments) and workspaces (POST search with body cursors)."""

from __future__ import annotations

import pytest

from pipeline.simulator import serialize
from pipeline.simulator.world import World

pytestmark = pytest.mark.anyio


async def _all_groups(api, org_id: str, *, search: bool, **query) -> list[dict]:
    path = f"/v2/orgs/{org_id}/directories/-/groups"
    items, cursor = [], None
    while True:
        if search:
            response = await api.post(f"{path}/search", json={"cursor": cursor} if cursor else query)
        else:
            response = await api.get(path, params={"cursor": cursor} if cursor else query)
        body = response.json()
        items += body["data"]
        if not (cursor := body["links"]["next"]):
            return items


async def test_groups_list_and_search(api, world: World, org_id: str) -> None:
    org = world.orgs[org_id]
    listed = await _all_groups(api, org_id, search=False, limit=3, expand="counts.users")
    assert {group["id"] for group in listed} == set(org.groups)
    assert listed == await _all_groups(api, org_id, search=True, limit=3, expand=["counts.users"])
    for item in listed:
        group = org.groups[item["id"]]
        assert item["name"] == group.name and item["directoryId"] == group.directory_id
        assert item["externalSynced"] == group.is_external_synced
        assert item["counts"]["users"] == len(group.members & set(org.users))
    synced = [item for item in listed if item["externalSynced"]]
    assert synced and not synced[0]["managementAccess"]["modifiable"]


async def test_group_counts_come_only_with_expand(api, org_id: str) -> None:
    plain = await _all_groups(api, org_id, search=True, limit=50)
    assert plain and all("counts" not in item for item in plain)
    expanded = await _all_groups(
        api, org_id, search=True, limit=50, expand=["counts.users", "counts.resources"]
    )
    assert all(set(item["counts"]) == {"users", "resources"} for item in expanded)


async def test_group_filters(api, world: World, org_id: str) -> None:
    org = world.orgs[org_id]
    user = next(u for u in org.users.values() if len(world.user_groups(org_id, u)) >= 2)
    mine = await _all_groups(api, org_id, search=False, accountIds=user.account_id)
    assert {item["id"] for item in mine} == {group.id for group in world.user_groups(org_id, user)}
    named = next(iter(org.groups.values()))
    found = await _all_groups(api, org_id, search=True, groupNames=[named.name])
    assert [item["id"] for item in found] == [named.id]
    product, cloud, _ = next(grant for group in org.groups.values() for grant in group.grants)
    ari = serialize.ari(product, cloud, world.config.product_keys)
    granting = await _all_groups(api, org_id, search=False, resourceIds=ari)
    expected = {
        g.id for g in org.groups.values() if ari in serialize.group_grants(g, world.config.product_keys)
    }
    assert {item["id"] for item in granting} == expected


async def test_group_role_assignments_give_product_access(api, world: World, org_id: str) -> None:
    org = world.orgs[org_id]
    for group in org.groups.values():
        path = f"/v2/orgs/{org_id}/directories/{group.directory_id}/groups/{group.id}/role-assignments"
        body = (await api.get(path)).json()
        got = {
            (
                item["resourceId"],
                item["resourceOwner"],
                assignment["role"],
                tuple(assignment["roleAssignmentMethods"]),
            )
            for item in body["data"]
            for assignment in item["roleAssignments"]
        }
        expected = set()
        for p, c, role in group.grants:
            resource = serialize.ari(p, c, "v2", role)
            expected.add((resource, resource.split(":")[2], role, ("direct",)))
        assert got == expected
        assert body["links"]["next"] is None
    missing = await api.get(f"/v2/orgs/{org_id}/directories/-/groups/no-group/role-assignments")
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "ADMIN-UAM-404-3"


async def test_role_assignments_page_with_cursors(api, world: World, org_id: str) -> None:
    org = world.orgs[org_id]
    group = max(org.groups.values(), key=lambda g: len({(p, c) for p, c, _ in g.grants}))
    path = f"/v2/orgs/{org_id}/directories/-/groups/{group.id}/role-assignments"
    first = (await api.get(path, params={"limit": 1})).json()
    assert len(first["data"]) == 1 and first["links"]["next"]
    second = (await api.get(path, params={"cursor": first["links"]["next"]})).json()
    assert second["data"][0]["resourceId"] > first["data"][0]["resourceId"]


async def _all_workspaces(api, org_id: str, body: dict) -> list[dict]:
    items, response = [], await api.post(f"/v2/orgs/{org_id}/workspaces", json=body)
    while True:
        page = response.json()
        items += page["data"]
        assert page["meta"]["total"] >= len(items)
        if "next" not in page["links"]:
            return items
        response = await api.post(f"/v2/orgs/{org_id}/workspaces", json={"cursor": page["links"]["next"]})


async def test_workspaces_page_with_body_cursors(api, world: World, org_id: str) -> None:
    org = world.orgs[org_id]
    items = await _all_workspaces(api, org_id, {"limit": 2})
    assert sorted(item["id"] for item in items) == sorted(
        serialize.ari(ws.product_key, ws.site.cloud_id, world.config.product_keys) for ws in org.workspaces
    )
    first = (await api.post(f"/v2/orgs/{org_id}/workspaces", json={})).json()
    assert first["meta"]["pageSize"] == 20 and first["meta"]["startIndex"] == 0
    usage = world.seat_usage(org_id)
    for item, workspace in zip(
        first["data"], sorted(org.workspaces, key=lambda ws: (ws.site.name, ws.product_key)), strict=True
    ):
        attributes = item["attributes"]
        assert item["id"] == serialize.ari(workspace.product_key, workspace.site.cloud_id, "v2")
        assert (
            attributes["type"]
            == attributes["typeKey"]
            == serialize.api_product_key(workspace.product_key, "v2")
        )
        assert attributes["hostUrl"] == workspace.site.host_url and attributes["status"] == "online"
        assert attributes["capacity"] == workspace.capacity and attributes["usage"] == usage[workspace.seat]


async def test_workspace_query_sort_and_validation(api, world: World, org_id: str) -> None:
    body = {
        "limit": 20,
        "sort": [{"field": "attributes.type", "order": "desc"}],
        "query": {"and": [{"field": {"name": "attributes.type", "values": ["confluence"]}}]},
    }
    items = await _all_workspaces(api, org_id, body)
    assert items and {item["attributes"]["type"] for item in items} == {"confluence"}
    path = f"/v2/orgs/{org_id}/workspaces"
    cursor = (await api.post(path, json={"limit": 1})).json()["links"]["next"]
    for bad in ({"limit": 0}, {"limit": 1001}, {"cursor": cursor, "limit": 5}, {"query": {"nope": 1}}):
        response = await api.post(path, json=bad)
        assert response.status_code == 400, bad
        assert response.json()["errors"][0]["code"] in {"ADMIN-400-24", "ADMIN-400-1"}
