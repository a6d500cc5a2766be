"""Typed one-line errors that name the fix, and an API key that shows up nowhere."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from pipeline.atlassian import (
    AdminApi,
    AtlassianApiError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    OrgNotFoundError,
    UserNotFoundError,
)
from pipeline.config.errors import SeatwatchError
from tests.support.fake_api import KEY, ORG, FakeApi, collect, leaks, reply

ORG_PATH = f"/v1/orgs/{ORG}"


def failure_of(fake: FakeApi) -> AtlassianApiError:
    async def scenario() -> None:
        async with fake.client() as client:
            await AdminApi(client).get_org(ORG)

    with pytest.raises(AtlassianApiError) as caught:
        asyncio.run(scenario())
    return caught.value


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, {"code": 401, "message": "Unauthorized"}),
        (
            401,
            {"errors": [{"id": "1", "status": "401", "code": "ADMIN-401-2", "title": "Insufficient scope"}]},
        ),
        (
            403,
            {"errors": [{"status": "403", "code": "ADMIN-403-3", "title": "Not allowed to manage the org"}]},
        ),
        (403, {"timestamp": "t", "path": "/x", "status": 403, "error": "Forbidden", "message": "No perms"}),
    ],
)
def test_refused_key_names_the_variable_and_never_the_key(status: int, body: dict) -> None:
    fake = FakeApi()
    fake.route("GET", ORG_PATH, reply(status, body))

    error = failure_of(fake)

    assert isinstance(error, AuthenticationError) and isinstance(error, SeatwatchError)
    message = str(error)
    assert "ATLASSIAN_API_KEY" in message and f"HTTP {status}" in message
    assert "\n" not in message
    assert leaks(error) == []


def test_unknown_org_names_the_org_variable() -> None:
    fake = FakeApi()
    fake.route(
        "GET",
        ORG_PATH,
        reply(404, {"errors": [{"status": "404", "code": "ADMIN-404-2", "title": "Organization not found"}]}),
    )

    error = failure_of(fake)

    assert isinstance(error, OrgNotFoundError) and error.code == "ADMIN-404-2"
    assert "ATLASSIAN_ORG_ID" in str(error) and ORG in str(error)
    assert "\n" not in str(error) and leaks(error) == []


def test_other_404s_and_400s_carry_the_api_code_and_title() -> None:
    fake = FakeApi()
    fake.route(
        "GET", ORG_PATH, reply(404, {"errors": [{"code": "ADMIN-404-1", "title": "Unknown resource"}]})
    )
    error = failure_of(fake)
    assert type(error) is NotFoundError and "ADMIN-404-1 Unknown resource" in str(error)

    fake = FakeApi()
    fake.route(
        "GET", ORG_PATH, reply(400, {"errors": [{"code": "ADMIN-400-1", "title": "Invalid page cursor"}]})
    )
    error = failure_of(fake)
    assert isinstance(error, BadRequestError) and "ADMIN-400-1 Invalid page cursor" in str(error)
    assert "\n" not in str(error)


def test_a_key_echoed_by_the_server_is_redacted() -> None:
    fake = FakeApi()
    fake.route("GET", ORG_PATH, reply(401, {"code": 401, "message": f"Bad token Bearer {KEY}\nsecond line"}))

    error = failure_of(fake)

    assert leaks(error) == [] and "***" in str(error) and "\n" not in str(error)


def test_transport_errors_do_not_chain_the_httpx_exception() -> None:
    # httpx exceptions hold the request, and the request holds the Authorization header.
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused while sending {request.headers['authorization']}", request=request)

    fake = FakeApi()
    fake.route("GET", ORG_PATH, refuse)

    error = failure_of(fake)

    assert error.__cause__ is None and error.__context__ is None
    assert leaks(error) == []


def test_user_not_found_is_its_own_type() -> None:
    fake = FakeApi()
    fake.route(
        "GET",
        f"/v1/orgs/{ORG}/directory/users/gone/last-active-dates",
        reply(404, {"errors": [{"code": "ADMIN-404-8", "title": "User not found"}]}),
    )

    async def scenario() -> None:
        async with fake.client() as client:
            await AdminApi(client).get_last_active_dates(ORG, "gone")

    with pytest.raises(UserNotFoundError):
        asyncio.run(scenario())


def test_the_key_goes_on_the_wire_only_as_a_bearer_header_and_never_into_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = FakeApi()
    fake.route("GET", ORG_PATH, reply(200, {"data": {"id": ORG}}))
    fake.route("GET", f"/v2/orgs/{ORG}/directories", reply(503, {}))

    async def scenario() -> None:
        async with fake.client(max_attempts=2) as client:
            assert KEY not in repr(client)
            await AdminApi(client).get_org(ORG)
            with pytest.raises(AtlassianApiError):
                await collect(AdminApi(client).list_directories(ORG))

    asyncio.run(scenario())

    first = fake.requests[0]
    assert first.headers["authorization"] == f"Bearer {KEY}"
    assert first.headers["user-agent"].startswith("seatwatch/")
    assert KEY not in first.url.query.decode()
    api_records = [record for record in caplog.records if record.name == "seatwatch.api"]
    assert api_records, "the client should log its calls at debug level"
    assert all(
        KEY not in record.getMessage() and "Bearer" not in record.getMessage() for record in caplog.records
    )
    assert any("GET /v1/orgs/{}" in record.getMessage() for record in api_records)
