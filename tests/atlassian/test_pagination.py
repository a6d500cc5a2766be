"""Every documented pagination style: each page once, in order, with the right follow-up request."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from pipeline.atlassian import UnexpectedResponseError, UnsafeLinkError
from tests.support.fake_api import BASE, ORG, FakeApi, collect, reply, request_json, two_pages


def test_v1_url_links_are_followed_on_the_api_host() -> None:
    fake = FakeApi()

    def users(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        if cursor is None:
            return reply(
                body={
                    "data": [{"account_id": "a"}],
                    "links": {"next": f"{BASE}/v1/orgs/{ORG}/users?cursor=p2"},
                }
            )
        if cursor == "p2":
            # A relative link resolves against the API host as well.
            return reply(
                body={
                    "data": [{"account_id": "b"}],
                    "links": {"next": f"/admin/v1/orgs/{ORG}/users?cursor=p3"},
                }
            )
        return reply(body={"data": [{"account_id": "c"}], "links": {"self": "x"}})

    fake.route("GET", f"/v1/orgs/{ORG}/users", users)

    pages = asyncio.run(collect(fake.api().iter_v1_users(ORG)))

    assert [item["account_id"] for page in pages for item in page.items] == ["a", "b", "c"]
    assert [r.url.params.get("cursor") for r in fake.requests] == [None, "p2", "p3"]
    assert pages[-1].next_cursor is None


def test_v1_url_link_to_another_host_is_refused_before_any_request_goes_there() -> None:
    fake = FakeApi()
    fake.route(
        "GET",
        f"/v1/orgs/{ORG}/users",
        reply(body={"data": [{"account_id": "a"}], "links": {"next": "https://evil.example/steal?cursor=x"}}),
    )

    async def scenario() -> list[object]:
        seen = []
        with pytest.raises(UnsafeLinkError) as caught:
            async for page in fake.api().iter_v1_users(ORG):
                seen.append(page)
        assert "evil.example" in str(caught.value)
        return seen

    assert len(asyncio.run(scenario())) == 1  # the first page was delivered, then the walk stopped
    assert {r.url.host for r in fake.requests} == {"api.test"}
    assert len(fake.requests) == 1


def test_v1_url_link_with_another_scheme_is_refused() -> None:
    fake = FakeApi()
    fake.route(
        "GET",
        "/v1/orgs",
        reply(body={"data": [{"id": ORG}], "links": {"next": "http://api.test/admin/v1/orgs?cursor=2"}}),
    )
    with pytest.raises(UnsafeLinkError):
        asyncio.run(collect(fake.api().list_orgs()))
    assert len(fake.requests) == 1


def test_v2_get_cursor_drops_the_other_parameters() -> None:
    fake = FakeApi()
    fake.route(
        "GET",
        f"/v2/orgs/{ORG}/directories/-/users",
        two_pages(
            {"data": [{"accountId": "u1"}], "links": {"next": "c2"}},
            {"data": [{"accountId": "u2"}], "links": {"next": None}},
        ),
    )

    pages = asyncio.run(collect(fake.api().iter_users(ORG, limit=50, group_ids=["g1", "g2"])))

    assert [item["accountId"] for page in pages for item in page.items] == ["u1", "u2"]
    first, second = (r.url.params for r in fake.requests)
    assert first.get("limit") == "50" and first.get_list("groupIds") == ["g1", "g2"]
    assert dict(second) == {"cursor": "c2"}


def test_v1_events_meta_next_keeps_the_time_window() -> None:
    fake = FakeApi()
    fake.route(
        "GET",
        f"/v1/orgs/{ORG}/events",
        two_pages(
            {"data": [{"id": "e1"}], "meta": {"next": "m2"}, "links": {"next": f"{BASE}/x?cursor=m2"}},
            {"data": [{"id": "e2"}], "meta": {"page_size": 25}, "links": {}},
        ),
    )

    pages = asyncio.run(collect(fake.api().iter_events(ORG, 1000, 2000)))

    assert [item["id"] for page in pages for item in page.items] == ["e1", "e2"]
    assert dict(fake.requests[1].url.params) == {"from": "1000", "to": "2000", "cursor": "m2"}


def test_events_stream_stops_at_the_first_empty_page_and_exposes_its_cursor() -> None:
    fake = FakeApi()
    answers = {
        None: {"data": [{"id": "e1"}, {"id": "e2"}], "meta": {"next": "s2", "page_size": 2}},
        "s2": {"data": [{"id": "e3"}], "meta": {"next": "s3"}},
        # The last page still carries a cursor; it is where the next run starts.
        "s3": {
            "data": [],
            "meta": {"next": "s3"},
            "links": {"next": f"{BASE}/v1/orgs/{ORG}/events-stream?cursor=s3"},
        },
    }
    fake.route(
        "GET",
        f"/v1/orgs/{ORG}/events-stream",
        lambda request: reply(body=answers[request.url.params.get("cursor")]),
    )

    pages = asyncio.run(collect(fake.api().iter_events_stream(ORG, from_ms=5, limit=2)))

    assert [item["id"] for page in pages for item in page.items] == ["e1", "e2", "e3"]
    assert pages[-1].items == [] and pages[-1].next_cursor == "s3"
    assert [dict(r.url.params) for r in fake.requests] == [
        {"from": "5", "limit": "2"},
        {"from": "5", "limit": "2", "cursor": "s2"},
        {"from": "5", "limit": "2", "cursor": "s3"},
    ]


def test_a_short_stream_page_ends_the_stream_in_one_call() -> None:
    fake = FakeApi()
    fake.route(
        "GET",
        f"/v1/orgs/{ORG}/events-stream",
        reply(body={"data": [{"id": "e1"}], "meta": {"next": "after-e1", "page_size": 200}}),
    )

    pages = asyncio.run(collect(fake.api().iter_events_stream(ORG, cursor="stored")))

    assert len(fake.requests) == 1
    assert [page.next_cursor for page in pages] == ["after-e1"]


def test_events_stream_resumes_from_a_stored_cursor_and_reads_links_next_urls() -> None:
    fake = FakeApi()
    answers = {
        "stored": {
            "data": [{"id": "e9"}],
            "links": {"next": f"{BASE}/v1/orgs/{ORG}/events-stream?cursor=n1"},
        },
        "n1": {"data": [], "links": {"next": f"{BASE}/v1/orgs/{ORG}/events-stream?cursor=n1"}},
    }
    fake.route(
        "GET",
        f"/v1/orgs/{ORG}/events-stream",
        lambda request: reply(body=answers[request.url.params["cursor"]]),
    )

    pages = asyncio.run(collect(fake.api().iter_events_stream(ORG, cursor="stored")))

    assert [page.next_cursor for page in pages] == ["n1", "n1"]
    assert [dict(r.url.params) for r in fake.requests] == [
        {"limit": "200", "cursor": "stored"},
        {"limit": "200", "cursor": "n1"},
    ]


def test_workspaces_send_the_cursor_alone_in_the_body() -> None:
    fake = FakeApi()
    fake.route(
        "POST",
        f"/v2/orgs/{ORG}/workspaces",
        two_pages(
            {"data": [{"id": "w1"}], "links": {"next": "wc2"}},
            {"data": [{"id": "w2"}], "links": {}, "meta": {"total": 2}},
            cursor_in="body",
        ),
    )

    items = asyncio.run(collect(fake.api().search_workspaces(ORG)))

    assert [item["id"] for item in items] == ["w1", "w2"]
    assert [request_json(r) for r in fake.requests] == [{"limit": 100}, {"cursor": "wc2"}]


def test_users_search_keeps_filters_and_expand_next_to_the_cursor() -> None:
    fake = FakeApi()
    fake.route(
        "POST",
        f"/v2/orgs/{ORG}/directories/-/users/search",
        two_pages(
            {"data": [{"accountId": "u1"}], "links": {"next": "k2"}},
            {"data": [{"accountId": "u2"}], "links": {"next": None}},
            cursor_in="body",
        ),
    )

    pages = asyncio.run(
        collect(fake.api().search_users(ORG, expand=["productAccess"], filters={"accountStatus": ["active"]}))
    )

    assert [item["accountId"] for page in pages for item in page.items] == ["u1", "u2"]
    assert request_json(fake.requests[1]) == {
        "accountStatus": ["active"],
        "limit": 100,
        "expand": ["productAccess"],
        "cursor": "k2",
    }
    assert all(page.date is not None for page in pages)


def test_groups_search_pages_through_the_body_cursor() -> None:
    fake = FakeApi()
    fake.route(
        "POST",
        f"/v2/orgs/{ORG}/directories/-/groups/search",
        two_pages(
            {"data": [{"id": "g1"}], "links": {"next": "gc"}},
            {"data": [{"id": "g2"}], "links": {}},
            cursor_in="body",
        ),
    )

    items = asyncio.run(collect(fake.api().iter_groups(ORG)))

    assert [item["id"] for item in items] == ["g1", "g2"]
    expand = ["counts.users", "counts.resources"]  # counts come only when asked for
    assert request_json(fake.requests[1]) == {"limit": 100, "expand": expand, "cursor": "gc"}


def test_a_cursor_that_does_not_advance_raises_instead_of_looping() -> None:
    fake = FakeApi()
    fake.route(
        "GET",
        f"/v2/orgs/{ORG}/directories",
        reply(body={"data": [{"directoryId": "d"}], "links": {"next": "same"}}),
    )
    with pytest.raises(UnexpectedResponseError, match="same next-page cursor twice"):
        asyncio.run(collect(fake.api().list_directories(ORG)))
    assert len(fake.requests) == 2


def test_a_page_that_is_not_an_object_is_a_typed_error() -> None:
    fake = FakeApi()
    fake.route("GET", f"/v2/orgs/{ORG}/directories", reply(body=["not", "a", "page"]))
    with pytest.raises(UnexpectedResponseError, match="not a JSON object"):
        asyncio.run(collect(fake.api().list_directories(ORG)))
