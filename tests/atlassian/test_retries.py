"""Retries: 429 (Retry-After, Reset, neither), 5xx, timeouts, dropped connections, bad JSON, bounds."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import httpx
import pytest

from pipeline.atlassian import AdminApi, ApiConnectionError, ApiStats, NotFoundError, RetriesExhaustedError
from pipeline.atlassian.errors import RateLimitWaitExceededError
from tests.support.fake_api import ORG, SERVER_TIME, FakeApi, http_date, iso, leaks, reply, sequence

ORG_PATH = f"/v1/orgs/{ORG}"
ORG_BODY = {"data": {"id": ORG, "attributes": {"name": "acme"}}}
TOO_MANY = {"code": 429, "message": "Too Many Requests"}


def timed_get_org(fake: FakeApi, **options: object) -> tuple[dict, float, ApiStats]:
    """Fetch the org; return it, the seconds it took and the client's counters."""

    async def scenario() -> tuple[dict, float, ApiStats]:
        async with fake.client(**options) as client:
            started = time.monotonic()
            org = await AdminApi(client).get_org(ORG)
            return org, time.monotonic() - started, client.stats

    return asyncio.run(scenario())


def get_org(fake: FakeApi, **options: object) -> dict:
    return timed_get_org(fake, **options)[0]


def test_429_with_retry_after_waits_then_succeeds() -> None:
    fake = FakeApi()
    fake.route("GET", ORG_PATH, sequence(reply(429, TOO_MANY, {"Retry-After": "0.3"}), reply(200, ORG_BODY)))

    org, elapsed, stats = timed_get_org(fake)

    assert org["attributes"]["name"] == "acme"
    assert (stats.calls, stats.retries, stats.rate_limited) == (2, 1, 1)
    assert 0.25 <= elapsed < 10


def test_429_with_only_reset_waits_reset_minus_date_on_the_servers_clock() -> None:
    # The server clock is in 2031; waiting until Reset by our own clock would be years (capped at 120 s).
    reset = iso(SERVER_TIME + timedelta(seconds=0.4))
    headers = {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
    fake = FakeApi()
    fake.route("GET", ORG_PATH, sequence(reply(429, TOO_MANY, headers), reply(200, ORG_BODY)))

    org, elapsed, stats = timed_get_org(fake)

    assert org["id"] == ORG and stats.rate_limited == 1
    assert 0.35 <= elapsed < 10


def test_429_without_any_hint_backs_off_and_retries() -> None:
    fake = FakeApi()
    fake.route("GET", ORG_PATH, sequence(reply(429, TOO_MANY), reply(429, TOO_MANY), reply(200, ORG_BODY)))

    _, _, stats = timed_get_org(fake)

    assert (stats.calls, stats.retries, stats.rate_limited) == (3, 2, 2)


def test_retry_after_is_capped_by_max_wait() -> None:
    fake = FakeApi()
    fake.route("GET", ORG_PATH, sequence(reply(429, TOO_MANY, {"Retry-After": "3600"}), reply(200, ORG_BODY)))

    _, elapsed, _ = timed_get_org(fake, max_wait=0.2)

    assert elapsed < 10


def test_retry_after_as_http_date_is_read_against_the_response_date() -> None:
    later = http_date(SERVER_TIME + timedelta(seconds=1))
    fake = FakeApi()
    fake.route("GET", ORG_PATH, sequence(reply(429, TOO_MANY, {"Retry-After": later}), reply(200, ORG_BODY)))

    _, elapsed, stats = timed_get_org(fake)

    assert stats.rate_limited == 1 and 0.9 <= elapsed < 10


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(status: int) -> None:
    fake = FakeApi()
    fake.route(
        "GET",
        ORG_PATH,
        sequence(reply(status, {"errors": [{"code": "ADMIN-500-1"}]}), reply(200, ORG_BODY)),
    )

    _, _, stats = timed_get_org(fake)

    assert (stats.calls, stats.retries, stats.rate_limited) == (2, 1, 0)


@pytest.mark.parametrize(
    "problem",
    [
        httpx.ReadTimeout("timed out"),
        httpx.ConnectTimeout("timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadError("connection reset by peer"),
        httpx.ConnectError("connection refused"),
    ],
    ids=lambda problem: type(problem).__name__,
)
def test_timeouts_and_dropped_connections_are_retried(problem: Exception) -> None:
    fake = FakeApi()
    fake.route("GET", ORG_PATH, sequence(problem, reply(200, ORG_BODY)))

    org, _, stats = timed_get_org(fake)

    assert org["id"] == ORG and (stats.calls, stats.retries) == (2, 1)


def test_malformed_json_on_200_is_retried() -> None:
    truncated = httpx.Response(200, content=b'{"data": {"id": "', headers={"Date": http_date()})
    fake = FakeApi()
    fake.route("GET", ORG_PATH, sequence(truncated, reply(200, ORG_BODY)))

    org, _, stats = timed_get_org(fake)

    assert org["id"] == ORG and stats.retries == 1


def test_exhausted_retries_raise_a_typed_one_line_error_after_exactly_max_attempts() -> None:
    fake = FakeApi()
    fake.route("GET", ORG_PATH, reply(503, {"errors": [{"code": "ADMIN-500-1", "title": "Internal"}]}))

    with pytest.raises(RetriesExhaustedError) as caught:
        get_org(fake, max_attempts=4)

    message = str(caught.value)
    assert len(fake.requests) == 4
    assert f"GET /admin/v1/orgs/{ORG} failed after 4 attempts (last: HTTP 503)" in message
    assert "\n" not in message and caught.value.status_code == 503
    assert leaks(caught.value) == []


def test_429s_that_name_no_window_count_as_attempts() -> None:
    fake = FakeApi()
    fake.route("GET", ORG_PATH, reply(429, TOO_MANY, {"Retry-After": "0"}))

    async def scenario() -> ApiStats:
        async with fake.client(max_attempts=3) as client:
            with pytest.raises(RetriesExhaustedError, match="HTTP 429"):
                await AdminApi(client).get_org(ORG)
            return client.stats

    stats = asyncio.run(scenario())
    assert (stats.calls, stats.retries, stats.rate_limited) == (3, 2, 3)


def test_unreachable_host_names_the_base_url_variable() -> None:
    fake = FakeApi()
    fake.route("GET", ORG_PATH, sequence(httpx.ConnectError("[Errno 111] Connection refused")))

    with pytest.raises(ApiConnectionError) as caught:
        get_org(fake, max_attempts=2)

    assert "ATLASSIAN_API_BASE_URL" in str(caught.value) and "after 2 attempts" in str(caught.value)
    assert leaks(caught.value) == []


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_client_errors_are_never_retried(status: int) -> None:
    fake = FakeApi()
    fake.route("GET", ORG_PATH, reply(status, {"errors": [{"code": f"ADMIN-{status}-9", "title": "No"}]}))

    with pytest.raises(Exception) as caught:
        get_org(fake)

    assert len(fake.requests) == 1
    assert caught.value.status_code == status  # type: ignore[attr-defined]


def test_unknown_route_without_an_api_code_points_at_the_base_url() -> None:
    fake = FakeApi()  # no routes: a plain 404, as from a wrong API root
    with pytest.raises(NotFoundError, match="ATLASSIAN_API_BASE_URL"):
        get_org(fake)


def test_429s_with_a_window_wait_without_using_attempts(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeApi()
    storm = [reply(429, TOO_MANY, {"Retry-After": "1"})] * 3
    fake.route("GET", ORG_PATH, sequence(*storm, reply(200, ORG_BODY)))

    async def scenario() -> ApiStats:
        async with fake.client(max_attempts=2) as client:
            await AdminApi(client).get_org(ORG)
            return client.stats

    stats = asyncio.run(scenario())
    assert (stats.calls, stats.rate_limited) == (4, 3)
    lines = capsys.readouterr().err.splitlines()
    assert 1 <= len(lines) <= 3
    assert all(line.startswith("rate-limited by the API, resuming at ") for line in lines)


def test_the_total_wait_for_rate_windows_is_bounded() -> None:
    fake = FakeApi()
    fake.route("GET", ORG_PATH, reply(429, TOO_MANY, {"Retry-After": "1"}))

    async def scenario() -> None:
        async with fake.client(max_rate_limited_wait=2.5) as client:
            await AdminApi(client).get_org(ORG)

    with pytest.raises(RateLimitWaitExceededError) as caught:
        asyncio.run(scenario())
    message = str(caught.value)
    assert "SEATWATCH_RATE_LIMIT_MAX_WAIT_SECONDS" in message and "\n" not in message
