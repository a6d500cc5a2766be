"""Endpoint methods: paths, merging, the last-active fan-out, counters and server dates."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from pipeline.atlassian import AdminApi, AdminClient, ApiStats, AuthenticationError
from pipeline.atlassian.errors import AtlassianApiError
from pipeline.config.secret import Secret
from tests.support.fake_api import (
    KEY,
    ORG,
    SERVER_TIME,
    FakeApi,
    collect,
    http_date,
    reply,
    request_json,
    two_pages,
)

ARI = "ari:cloud:jira-software::site/58d24034"


def last_active_route(fake: FakeApi, answers: dict[str, httpx.Response]) -> None:
    """Per-user answers (default: no products) after a random short delay, so answers come back shuffled."""

    async def handle(request: httpx.Request) -> httpx.Response:
        account_id = request.url.path.split("/")[-2]
        await asyncio.sleep(random.uniform(0, 0.01))
        return answers.get(account_id) or reply(body={"data": {"product_access": [{"id": account_id}]}})

    fake.fallback = handle


def test_last_active_dates_merge_products_over_pages() -> None:
    fake = FakeApi()
    fake.route(
        "GET",
        f"/v1/orgs/{ORG}/directory/users/557058:abc/last-active-dates",
        two_pages(
            {
                "data": {
                    "product_access": [{"id": ARI, "key": "jira-software"}],
                    "added_to_org": "2023-05-04",
                },
                "links": {"next": "p2"},
            },
            {"data": {"product_access": [{"id": "ari:cloud:confluence::site/1", "key": "confluence"}]}},
        ),
    )

    data = asyncio.run(fake.api().get_last_active_dates(ORG, "557058:abc"))

    assert [product["key"] for product in data["product_access"]] == ["jira-software", "confluence"]
    assert data["added_to_org"] == "2023-05-04"
    assert (
        fake.requests[0].url.raw_path.decode()
        == f"/admin/v1/orgs/{ORG}/directory/users/557058:abc/last-active-dates"
    )
    assert dict(fake.requests[1].url.params) == {"cursor": "p2"}


def test_ids_are_quoted_so_they_cannot_change_the_path() -> None:
    fake = FakeApi()
    last_active_route(fake, {})

    asyncio.run(fake.api().get_last_active_dates(ORG, "a/../../b?x=1"))

    assert fake.requests[0].url.raw_path.decode().endswith("/users/a%2F..%2F..%2Fb%3Fx%3D1/last-active-dates")
    with pytest.raises(ValueError, match="invalid id"):
        asyncio.run(fake.api().get_last_active_dates(ORG, ".."))


def test_fan_out_keeps_input_order_bounds_concurrency_and_skips_departed_users() -> None:
    fake = FakeApi()
    gone = reply(404, {"errors": [{"code": "ADMIN-404-8", "title": "User not found"}]})
    last_active_route(fake, {"u7": gone})
    ids = [f"u{i}" for i in range(40)]

    results = asyncio.run(fake.api(max_concurrency=3).map_last_active_dates(ORG, ids))

    assert results[7] is None
    assert [r["product_access"][0]["id"] for i, r in enumerate(results) if i != 7] == [
        account_id for account_id in ids if account_id != "u7"
    ]
    assert fake.max_in_flight <= 3
    assert len(fake.requests) == 40


def test_fan_out_stops_at_the_first_real_error_and_the_client_stays_usable() -> None:
    fake = FakeApi()
    last_active_route(fake, {"u3": reply(401, {"code": 401, "message": "Unauthorized"})})

    async def scenario() -> tuple[int, dict]:
        async with fake.client(max_concurrency=2) as client:
            api = AdminApi(client)
            with pytest.raises(AuthenticationError):
                await api.map_last_active_dates(ORG, [f"u{i}" for i in range(200)])
            sent = len(fake.requests)
            # Cancelled calls handed their pacing tickets back: the next call is not stuck.
            return sent, await asyncio.wait_for(api.get_last_active_dates(ORG, "u100"), 5)

    sent, after = asyncio.run(scenario())

    assert sent < 200
    assert after["product_access"][0]["id"] == "u100"


def _search_pages_route(fake: FakeApi, pages: int, per_page: int) -> None:
    """A v2 users search of ``pages`` pages; the cursor is the next page's number."""

    def handle(request: httpx.Request) -> httpx.Response:
        number = int(request_json(request).get("cursor") or 0)
        items = [{"accountId": f"u{number}-{i}"} for i in range(per_page)]
        links = {"next": str(number + 1)} if number + 1 < pages else {}
        return reply(body={"data": items, "links": links})

    fake.route("POST", f"/v2/orgs/{ORG}/directories/-/users/search", handle)


def test_search_with_last_active_keeps_the_next_pages_calls_in_flight() -> None:
    fake = FakeApi()
    _search_pages_route(fake, pages=4, per_page=5)
    last_active_route(fake, {})
    sent_before: list[int] = []  # per-user calls sent when each page was handed over

    async def scenario() -> list:
        pages = []
        async for page, answers in fake.api(max_concurrency=3).search_users_with_last_active(ORG, limit=5):
            sent_before.append(sum("last-active-dates" in path for path in fake.paths()))
            pages.append((page, answers))
        return pages

    pages = asyncio.run(scenario())

    # Every page with its own users' answers, in order, each user asked once.
    assert [[a["product_access"][0]["id"] for a in answers] for _, answers in pages] == [
        [item["accountId"] for item in page.items] for page, _ in pages
    ]
    assert sum("last-active-dates" in path for path in fake.paths()) == 20 and fake.max_in_flight <= 3
    # When the first page is handed over, the calls of the pages after it have started: the fan-out does not
    # drain at the end of each page.
    assert sent_before[0] > 5


def test_search_with_last_active_raises_a_later_pages_failure_in_its_turn() -> None:
    fake = FakeApi()
    _search_pages_route(fake, pages=3, per_page=4)
    last_active_route(fake, {"u1-2": reply(401, {"code": 401, "message": "Unauthorized"})})
    handed: list[str] = []

    async def scenario() -> None:
        async for page, _ in fake.api(max_concurrency=2).search_users_with_last_active(ORG, limit=4):
            handed.append(page.items[0]["accountId"])

    with pytest.raises(AuthenticationError):
        asyncio.run(scenario())
    assert handed == ["u0-0"]


def test_fan_out_of_nothing_makes_no_call() -> None:
    fake = FakeApi()
    assert asyncio.run(fake.api().map_last_active_dates(ORG, [])) == []
    assert fake.requests == []


def test_small_endpoints_return_the_apis_data() -> None:
    fake = FakeApi()
    fake.route("GET", f"/v1/orgs/{ORG}", reply(body={"data": {"id": ORG, "attributes": {"name": "acme"}}}))
    fake.route(
        "GET",
        f"/v1/orgs/{ORG}/event-actions",
        reply(body={"data": [{"id": "user_login", "type": "event-actions", "attributes": {}}]}),
    )
    fake.route(
        "GET",
        f"/v2/orgs/{ORG}/directories/d1/groups/g1/role-assignments",
        two_pages(
            {"data": [{"resourceId": ARI}], "links": {"next": "r2"}},
            {"data": [{"resourceId": "ari:cloud:confluence::site/1"}], "links": {}},
        ),
    )
    fake.route(
        "GET",
        f"/v2/orgs/{ORG}/directories/-/users",
        reply(body={"data": [{"accountId": "a1"}, {"accountId": "a2"}], "links": {"next": None}}),
    )

    async def scenario() -> tuple:
        api = fake.api()
        return (
            await api.get_org(ORG),
            await api.list_event_actions(ORG),
            await api.get_group_role_assignments(ORG, "d1", "g1"),
            await collect(api.iter_group_member_ids(ORG, "g1")),
        )

    org, actions, assignments, members = asyncio.run(scenario())

    assert org["attributes"]["name"] == "acme"
    assert [action["id"] for action in actions] == ["user_login"]
    assert [a["resourceId"] for a in assignments] == [ARI, "ari:cloud:confluence::site/1"]
    assert members == ["a1", "a2"]
    assert fake.requests[-1].url.params.get_list("groupIds") == ["g1"]


def test_counters_and_server_dates_per_bucket() -> None:
    later = SERVER_TIME + timedelta(days=3)
    fake = FakeApi()
    fake.route("GET", f"/v1/orgs/{ORG}", reply(body={"data": {"id": ORG}}))
    fake.route(
        "POST",
        f"/v2/orgs/{ORG}/directories/-/users/search",
        httpx.Response(200, json={"data": [], "links": {}}, headers={"Date": http_date(later)}),
    )
    calls: list[tuple[str, int | None]] = []

    async def scenario() -> tuple[AdminClient, list]:
        async with fake.client(on_call=lambda bucket, status: calls.append((bucket, status))) as client:
            api = AdminApi(client)
            with pytest.raises(RuntimeError, match="no response"):
                client.server_now()
            await api.get_org(ORG)
            await api.get_org(ORG)
            pages = await collect(api.search_users(ORG, expand=["productAccess"]))
            return client, pages

    client, pages = asyncio.run(scenario())

    search = "POST /v2/orgs/{}/directories/{}/users/search"
    stats: ApiStats = client.stats
    assert stats.as_dict() == {"calls": 3, "retries": 0, "rate_limited": 0}
    assert stats.by_bucket["GET /v1/orgs/{}"].calls == 2
    assert client.server_date("GET /v1/orgs/{}") == SERVER_TIME
    assert client.server_date(search) == later == pages[0].date
    assert client.server_now() == later  # the latest answer's Date
    assert calls == [("GET /v1/orgs/{}", 200), ("GET /v1/orgs/{}", 200), (search, 200)]


def test_works_in_process_through_asgi_transport() -> None:
    async def org(request: Request) -> JSONResponse:
        assert request.headers["authorization"] == f"Bearer {KEY}"
        return JSONResponse(
            {"data": {"id": request.path_params["org_id"]}}, headers={"Date": http_date(SERVER_TIME)}
        )

    app = Starlette(routes=[Route("/admin/v1/orgs/{org_id}", org)])

    async def scenario() -> dict:
        transport = httpx.ASGITransport(app=app)
        async with AdminClient("http://simulator/admin", Secret(KEY), transport=transport) as client:
            return await AdminApi(client).get_org(ORG)

    assert asyncio.run(scenario()) == {"id": ORG}


def test_fan_out_records_an_odd_accounts_refusal_and_goes_on() -> None:
    fake = FakeApi()
    odd = reply(403, {"errors": [{"code": "ADMIN-403-1", "title": "Forbidden", "detail": "not managed"}]})
    bad = reply(400, {"errors": [{"code": "ADMIN-400-4", "title": "Invalid resource"}]})
    last_active_route(fake, {"u2": odd, "u5": bad})
    results = asyncio.run(
        fake.api(max_concurrency=3).map_last_active_dates(ORG, [f"u{i}" for i in range(10)])
    )
    assert results[2]["failure"]["status"] == 403 and results[2]["failure"]["code"] == "ADMIN-403-1"
    assert results[5]["failure"]["status"] == 400
    assert all("product_access" in r for i, r in enumerate(results) if i not in (2, 5))


def test_fan_out_stops_when_most_accounts_are_refused_alike() -> None:
    fake = FakeApi()
    refused = reply(403, {"errors": [{"code": "ADMIN-403-3", "title": "Not allowed to manage the org"}]})
    last_active_route(fake, {f"u{i}": refused for i in range(100)})
    with pytest.raises(AtlassianApiError):
        asyncio.run(fake.api(max_concurrency=3).map_last_active_dates(ORG, [f"u{i}" for i in range(100)]))


def test_user_role_assignments_fan_out_pages_and_records_refusals() -> None:
    fake = FakeApi()
    items = [{"resourceId": ARI, "roleAssignments": [{"role": "atlassian/user"}]}]

    async def handle(request: httpx.Request) -> httpx.Response:
        account_id = request.url.path.split("/")[-2]
        if account_id == "u1":
            return reply(403, {"errors": [{"code": "ADMIN-403-1", "title": "Forbidden"}]})
        if "cursor" not in request.url.params:
            return reply(body={"data": items, "links": {"next": "p2"}})
        return reply(body={"data": [{"resourceId": "ari:cloud:confluence::site/1"}], "links": {"next": None}})

    fake.fallback = handle
    results = asyncio.run(fake.api().map_user_role_assignments(ORG, ["u0", "u1"]))

    assert [item["resourceId"] for item in results[0]["data"]] == [ARI, "ari:cloud:confluence::site/1"]
    assert results[1]["failure"]["status"] == 403
    paths = {request.url.raw_path.decode().split("?")[0] for request in fake.requests}
    assert f"/admin/v2/orgs/{ORG}/directories/-/users/u0/role-assignments" in paths
