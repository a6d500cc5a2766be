"""The write endpoints, client side: requests sent, receipts, typed refusals, retries, the key unseen."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from pipeline.atlassian import (
    AdminApi,
    GroupNotFound,
    MembershipNotFound,
    SyncAdminApi,
    UserLimitReached,
    UserNotFoundError,
    WriteForbidden,
    WriteReceipt,
)
from pipeline.atlassian.errors import AuthenticationError, OrgNotFoundError
from pipeline.config.secret import Secret
from tests.support.fake_api import (
    BASE,
    KEY,
    ORG,
    SERVER_TIME,
    FakeApi,
    FixedWindowLimiter,
    http_date,
    leaks,
    reply,
    request_json,
    sequence,
)

DIRECTORY = "dir-1"
GROUP = "9233fb03-53cc-4463-9698-047aedbffb5c"
ACCOUNT = "557058:f1d2"
MEMBERSHIP = f"/v2/orgs/{ORG}/directories/{DIRECTORY}/groups/{GROUP}/memberships"


def done(trace: str = "trace-1") -> httpx.Response:
    return httpx.Response(204, headers={"Date": http_date(), "Atl-Traceid": trace})


def uam_error(status: int, code: str, title: str, detail: str) -> httpx.Response:
    errors = [{"id": "e1", "status": str(status), "code": code, "title": title, "detail": detail}]
    return reply(status, {"errors": errors})


def test_each_write_sends_its_documented_request_and_returns_a_receipt() -> None:
    fake = FakeApi()
    fake.route("DELETE", f"{MEMBERSHIP}/{ACCOUNT}", done("t-del"))
    fake.route("POST", MEMBERSHIP, done("t-add"))
    fake.route("POST", f"/v2/orgs/{ORG}/directories/{DIRECTORY}/users/{ACCOUNT}/suspend", done("t-sus"))
    fake.route("POST", f"/v2/orgs/{ORG}/directories/{DIRECTORY}/users/{ACCOUNT}/restore", done("t-res"))
    api = fake.api()

    async def run() -> list[WriteReceipt]:
        return [
            await api.remove_group_member(ORG, DIRECTORY, GROUP, ACCOUNT),
            await api.add_group_member(ORG, DIRECTORY, GROUP, ACCOUNT),
            await api.suspend_user(ORG, DIRECTORY, ACCOUNT),
            await api.restore_user(ORG, DIRECTORY, ACCOUNT),
        ]

    receipts = asyncio.run(run())

    assert receipts == [
        WriteReceipt(204, trace, SERVER_TIME, 1) for trace in ("t-del", "t-add", "t-sus", "t-res")
    ]
    assert [(r.method, r.url.raw_path.decode()) for r in fake.requests] == [
        ("DELETE", f"/admin{MEMBERSHIP}/{ACCOUNT}"),
        ("POST", f"/admin{MEMBERSHIP}"),
        ("POST", f"/admin/v2/orgs/{ORG}/directories/{DIRECTORY}/users/{ACCOUNT}/suspend"),
        ("POST", f"/admin/v2/orgs/{ORG}/directories/{DIRECTORY}/users/{ACCOUNT}/restore"),
    ]
    assert request_json(fake.requests[1]) == {"accountId": ACCOUNT}
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in fake.requests)


def test_a_200_with_a_json_body_and_an_x_request_id_is_a_receipt_too() -> None:
    fake = FakeApi()
    fake.route(
        "POST",
        f"/v2/orgs/{ORG}/directories/{DIRECTORY}/users/{ACCOUNT}/suspend",
        reply(200, {"message": "suspended"}, {"X-Request-Id": "r-9"}),
    )

    receipt = asyncio.run(fake.api().suspend_user(ORG, DIRECTORY, ACCOUNT))

    assert (receipt.status, receipt.request_id, receipt.at) == (200, "r-9", SERVER_TIME)


@pytest.mark.parametrize(
    ("method", "answer", "error", "words"),
    [
        (
            "remove",
            uam_error(403, "ADMIN-UAM-403-1", "Forbidden", "The API key cannot make changes."),
            WriteForbidden,
            "may read but not change",
        ),
        (
            "add",
            reply(401, {"errors": [{"code": "ADMIN-401-2", "title": "Unauthorized"}]}),
            WriteForbidden,
            "without scopes",
        ),
        (
            "add",
            uam_error(409, "ADMIN-UAM-409-3", "Product License Limit Exceeded", "Jira has no free seat."),
            UserLimitReached,
            "user limit is reached",
        ),
        (
            "restore",
            uam_error(409, "ADMIN-UAM-409-3", "Product License Limit Exceeded", "No free seat."),
            UserLimitReached,
            "Free a seat",
        ),
        (
            "remove",
            uam_error(404, "ADMIN-UAM-404-1", "Unknown Resource", "The user is not in the group."),
            MembershipNotFound,
            "no longer in that group",
        ),
        (
            "remove",
            uam_error(404, "ADMIN-UAM-404-3", "Group Not Found", "No such group."),
            GroupNotFound,
            "group was deleted",
        ),
        (
            "add",
            uam_error(404, "ADMIN-UAM-404-1", "Unknown Resource", "No such user."),
            UserNotFoundError,
            "no longer in the directory",
        ),
        (
            "suspend",
            uam_error(404, "ADMIN-UAM-404-2", "Organization not found", "No such org."),
            OrgNotFoundError,
            "ATLASSIAN_ORG_ID",
        ),
    ],
)
def test_refusals_are_typed_one_line_errors_that_never_show_the_key(
    method: str, answer: httpx.Response, error: type[Exception], words: str
) -> None:
    fake = FakeApi(fallback=sequence(answer))
    api = fake.api()
    calls = {
        "remove": lambda: api.remove_group_member(ORG, DIRECTORY, GROUP, ACCOUNT),
        "add": lambda: api.add_group_member(ORG, DIRECTORY, GROUP, ACCOUNT),
        "suspend": lambda: api.suspend_user(ORG, DIRECTORY, ACCOUNT),
        "restore": lambda: api.restore_user(ORG, DIRECTORY, ACCOUNT),
    }

    with pytest.raises(error) as caught:
        asyncio.run(calls[method]())

    message = str(caught.value)
    assert words in message
    assert "\n" not in message and not leaks(caught.value)
    assert len(fake.requests) == 1  # a refusal is final: never retried
    if error is WriteForbidden:
        assert isinstance(caught.value, AuthenticationError) and caught.value.exit_code == 2


def test_the_api_detail_names_the_reason_and_a_key_echoed_in_it_is_redacted() -> None:
    answer = uam_error(409, "ADMIN-UAM-409-3", "Product License Limit Exceeded", f"seat for {KEY} refused")
    fake = FakeApi(fallback=sequence(answer))

    with pytest.raises(UserLimitReached) as caught:
        asyncio.run(fake.api().add_group_member(ORG, DIRECTORY, GROUP, ACCOUNT))

    assert "seat for *** refused" in str(caught.value)
    assert KEY not in str(caught.value)


def test_a_write_lost_to_a_timeout_is_retried_and_the_receipt_says_so() -> None:
    """Safe because every write is idempotent in effect (docs/write-endpoints.md)."""
    fake = FakeApi()
    fake.route(
        "DELETE",
        f"{MEMBERSHIP}/{ACCOUNT}",
        sequence(httpx.ReadTimeout("slow"), reply(503, {}), done("t-3")),
    )

    receipt = asyncio.run(fake.api(backoff_base=0.001).remove_group_member(ORG, DIRECTORY, GROUP, ACCOUNT))

    assert (receipt.status, receipt.request_id, receipt.attempts) == (204, "t-3", 3)
    assert len(fake.requests) == 3


def test_writes_are_paced_by_the_rate_limit_headers_like_reads() -> None:
    limiter = FixedWindowLimiter(limit=3, window=0.2)
    fake = FakeApi(fallback=limiter)

    async def scenario() -> list[WriteReceipt]:
        async with fake.client(max_concurrency=4) as client:
            api = AdminApi(client)
            calls = [api.remove_group_member(ORG, DIRECTORY, GROUP, f"u{i}") for i in range(7)]
            return list(await asyncio.gather(*calls))

    receipts = asyncio.run(scenario())

    assert limiter.rejected == 0 and limiter.served == 7
    assert {receipt.status for receipt in receipts} == {200}


def test_a_429_on_a_write_is_waited_out_then_sent_again() -> None:
    limited = reply(429, {"code": 429, "message": "Rate limit exceeded"}, {"Retry-After": "0"})
    fake = FakeApi()
    fake.route("POST", MEMBERSHIP, sequence(limited, done()))
    api = fake.api()

    receipt = asyncio.run(api.add_group_member(ORG, DIRECTORY, GROUP, ACCOUNT))

    assert (receipt.status, receipt.attempts) == (204, 2)
    assert api.client.stats.rate_limited == 1


def test_sync_admin_api_proxies_the_writes() -> None:
    fake = FakeApi()
    fake.route("DELETE", f"{MEMBERSHIP}/{ACCOUNT}", done("t-sync"))

    with SyncAdminApi(BASE, Secret(KEY), transport=httpx.MockTransport(fake.handle)) as api:
        receipt = api.remove_group_member(ORG, DIRECTORY, GROUP, ACCOUNT)

    assert receipt == WriteReceipt(204, "t-sync", SERVER_TIME, 1)


def test_a_users_directories_are_listed_for_suspend_and_restore() -> None:
    fake = FakeApi()
    fake.route("GET", f"/v2/orgs/{ORG}/directories", reply(body={"data": [{"directoryId": DIRECTORY}]}))

    async def run() -> list[dict]:
        return [item async for item in fake.api().list_directories(ORG, account_id=ACCOUNT)]

    assert asyncio.run(run()) == [{"directoryId": DIRECTORY}]
    assert dict(fake.requests[0].url.params) == {"accountId": ACCOUNT}


def test_reads_sent_as_post_keep_the_read_errors() -> None:
    """A 403 on a search is the key, not a refused change: no WriteForbidden, no write wording."""
    fake = FakeApi(fallback=sequence(uam_error(403, "ADMIN-UAM-403-1", "Forbidden", "no")))

    async def run() -> None:
        async for _ in fake.api().search_workspaces(ORG):
            pass

    with pytest.raises(AuthenticationError) as caught:
        asyncio.run(run())

    assert not isinstance(caught.value, WriteForbidden)
