"""SyncAdminApi: every AdminApi endpoint, blocking, for dlt's synchronous resources."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from pipeline.atlassian import AuthenticationError, SyncAdminApi, UnexpectedResponseError
from pipeline.config.secret import Secret
from tests.support.fake_api import BASE, KEY, ORG, FakeApi, leaks, reply, request_json


def sync_api(fake: FakeApi, **options: Any) -> SyncAdminApi:
    return SyncAdminApi(
        BASE, Secret(KEY), transport=httpx.MockTransport(fake.handle), backoff_base=0.001, **options
    )


def search_route(fake: FakeApi, pages: int) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        index = int(request_json(request).get("cursor", "0"))
        more = {"next": str(index + 1)} if index + 1 < pages else {}
        return reply(body={"data": [{"accountId": f"u{index}"}], "links": more})

    fake.route("POST", f"/v2/orgs/{ORG}/directories/-/users/search", handle)


def test_sync_calls_pages_and_fan_out() -> None:
    fake = FakeApi()
    fake.route("GET", f"/v1/orgs/{ORG}", reply(body={"data": {"id": ORG, "attributes": {"name": "acme"}}}))
    search_route(fake, pages=3)
    fake.fallback = lambda request: reply(body={"data": {"product_access": [{"id": request.url.path}]}})

    with sync_api(fake) as api:
        org = api.get_org(ORG)
        pages = list(api.search_users(ORG, expand=["groups"], limit=1))
        answers = api.map_last_active_dates(ORG, (f"u{i}" for i in range(5)))
        stats = api.stats.as_dict()
        now = api.server_now()

    assert org["attributes"]["name"] == "acme"
    assert [page.items[0]["accountId"] for page in pages] == ["u0", "u1", "u2"]
    assert all(page.date == now for page in pages)
    assert [a["product_access"][0]["id"].split("/")[-2] for a in answers] == [f"u{i}" for i in range(5)]
    assert stats == {"calls": 9, "retries": 0, "rate_limited": 0}


def test_stopping_early_closes_the_page_iterator_and_the_api_stays_usable() -> None:
    fake = FakeApi()
    search_route(fake, pages=10)

    with sync_api(fake) as api:
        for page in api.search_users(ORG):
            if page.items[0]["accountId"] == "u1":
                break
        assert len(fake.requests) == 2  # no read-ahead: page 3 was never requested
        assert len(list(api.search_users(ORG))) == 10


def test_read_ahead_gives_the_same_pages_and_calls_and_the_error_in_its_place() -> None:
    fake = FakeApi()
    search_route(fake, pages=5)

    with sync_api(fake, read_ahead=2) as api:
        pages = [page.items[0]["accountId"] for page in api.search_users(ORG)]
        assert pages == [f"u{i}" for i in range(5)]
        assert len(fake.requests) == 5  # read to the end: no call that page-by-page reading would not make
        # Stopping early closes the reader; the API stays usable.
        for page in api.search_users(ORG):
            if page.items[0]["accountId"] == "u1":
                break
        assert len(list(api.search_users(ORG))) == 5

    failing = FakeApi()
    failing.route("POST", f"/v2/orgs/{ORG}/directories/-/users/search", reply(status=401, body={}))
    with sync_api(failing, read_ahead=2) as api, pytest.raises(AuthenticationError):
        list(api.search_users(ORG))


def test_item_listings_and_the_dlt_source_names() -> None:
    fake = FakeApi()
    fake.route("POST", f"/v2/orgs/{ORG}/directories/-/groups/search", reply(body={"data": [{"id": "g1"}]}))
    fake.route("POST", f"/v2/orgs/{ORG}/workspaces", reply(body={"data": [{"id": "w1"}]}))
    fake.route("GET", f"/v2/orgs/{ORG}/directories", reply(body={"data": [{"directoryId": "d1"}]}))
    fake.route("GET", f"/v1/orgs/{ORG}/event-actions", reply(body={"data": [{"id": "user_login"}]}))
    fake.route(
        "GET", f"/v2/orgs/{ORG}/directories/d1/groups/g1/role-assignments", reply(body={"data": [{"r": 1}]})
    )
    fake.route("GET", f"/v1/orgs/{ORG}/events-stream", reply(body={"data": [], "meta": {"next": "tail"}}))

    with sync_api(fake) as api:
        assert [g["id"] for g in api.iter_groups(ORG)] == ["g1"]
        assert [w["id"] for w in api.search_workspaces(ORG)] == ["w1"]
        assert [d["directoryId"] for d in api.list_directories(ORG)] == ["d1"]
        assert [a["id"] for a in api.list_event_actions(ORG)] == ["user_login"]
        assert api.get_group_role_assignments(ORG, "d1", "g1") == [{"r": 1}]
        assert [page.next_cursor for page in api.iter_events_stream(ORG, cursor="kept")] == ["tail"]


def test_errors_cross_the_portal_typed_and_without_the_key() -> None:
    fake = FakeApi()
    fake.route("GET", f"/v1/orgs/{ORG}", reply(401, {"code": 401, "message": "Unauthorized"}))

    with sync_api(fake) as api, pytest.raises(AuthenticationError) as caught:
        api.get_org(ORG)

    assert "ATLASSIAN_API_KEY" in str(caught.value)
    assert leaks(caught.value) == []


def test_close_stops_the_loop_thread_and_is_idempotent() -> None:
    fake = FakeApi()
    threads_before = threading.active_count()
    api = sync_api(fake)
    assert KEY not in repr(api)
    with api:
        assert threading.active_count() == threads_before + 1
    api.close()
    assert threading.active_count() == threads_before
    with pytest.raises(RuntimeError, match="not open"):
        api.get_org(ORG)
    with pytest.raises(AttributeError):
        api.not_an_endpoint(ORG)  # only AdminApi's own methods are offered
    assert api.stats.calls == 0  # counters stay readable after close


def test_users_count_and_a_count_missing_from_the_answer() -> None:
    fake = FakeApi()
    fake.route("GET", f"/v2/orgs/{ORG}/directories/-/users/count", reply(body={"count": 42}))
    fake.route("GET", f"/v2/orgs/{ORG}/directories/d1/users/count", reply(body={"total": 42}))
    with sync_api(fake) as api:
        assert api.count_users(ORG) == 42
        with pytest.raises(UnexpectedResponseError, match="count"):
            api.count_users(ORG, directory_id="d1")
