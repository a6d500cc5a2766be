"""Error bodies exactly as documented: ProxyError for 401, ApplicationErrors (string status) for the rest."""

from __future__ import annotations

import httpx
import pytest

from pipeline.simulator.app import create_app
from pipeline.simulator.world import World
from tests.support.simulator_api import BASE_URL, client_for

pytestmark = pytest.mark.anyio


def _single_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    (error,) = response.json()["errors"]
    assert set(error) == {"id", "status", "code", "title", "detail"}
    assert error["status"] == str(status) and error["code"] == code
    return error


@pytest.mark.parametrize("header", [None, "Bearer wrong-key", "Basic c2ltOmtleQ==", "Bearer"])
async def test_missing_or_wrong_key_is_a_401_proxy_error(world: World, org_id: str, header) -> None:
    headers = {"Authorization": header} if header else {}
    transport = httpx.ASGITransport(create_app(world))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers) as client:
        for url in (
            f"{BASE_URL}/v1/orgs",
            f"{BASE_URL}/v1/orgs/{org_id}/events",
            f"{BASE_URL}/_simulator/truth",
            "http://sim.test/_simulator/truth",
        ):
            response = await client.get(url)
            assert response.status_code == 401
            assert response.content == b'{"code":401,"message":"Unauthorized"}'


async def test_unknown_org_is_404_in_both_families(api) -> None:
    for path in ("/v1/orgs/nope", "/v1/orgs/nope/users", "/v1/orgs/nope/events-stream"):
        error = _single_error(await api.get(path), 404, "ADMIN-404-2")
        assert error["title"] == "Organization not found"
    _single_error(await api.get("/v2/orgs/nope/directories/-/users"), 404, "ADMIN-UAM-404-2")
    _single_error(await api.post("/v2/orgs/nope/workspaces", json={}), 404, "ADMIN-404-2")


async def test_unknown_account_is_admin_404_8(api, org_id: str) -> None:
    response = await api.get(f"/v1/orgs/{org_id}/directory/users/557058:nobody/last-active-dates")
    _single_error(response, 404, "ADMIN-404-8")


@pytest.mark.parametrize("cursor", ["garbage", "eyJrIjoib3JncyJ9", ""])
async def test_bad_cursors_are_admin_400_1(api, org_id: str, cursor) -> None:
    if not cursor:
        # A cursor from another endpoint is as invalid as garbage.
        cursor = (await api.get(f"/v1/orgs/{org_id}/events-stream")).json()["meta"]["next"]
    for path in ("/v1/orgs", f"/v1/orgs/{org_id}/users", f"/v1/orgs/{org_id}/events"):
        _single_error(await api.get(path, params={"cursor": cursor}), 400, "ADMIN-400-1")
    v2 = await api.get(f"/v2/orgs/{org_id}/directories/-/users", params={"cursor": cursor})
    _single_error(v2, 400, "ADMIN-UAM-400-1")
    search = await api.post(f"/v2/orgs/{org_id}/directories/-/users/search", json={"cursor": cursor})
    _single_error(search, 400, "ADMIN-UAM-400-1")
    workspaces = await api.post(f"/v2/orgs/{org_id}/workspaces", json={"cursor": cursor})
    _single_error(workspaces, 400, "ADMIN-400-1")


async def test_error_bodies_are_deterministic(world: World, org_id: str) -> None:
    bodies = []
    for _ in range(2):
        async with client_for(world) as client:
            bodies.append((await client.get("/v1/orgs/nope")).content)
    assert bodies[0] == bodies[1]


async def test_invalid_json_body_is_400(api, org_id: str) -> None:
    response = await api.post(
        f"/v2/orgs/{org_id}/directories/-/users/search",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    _single_error(response, 400, "ADMIN-UAM-400-1")
