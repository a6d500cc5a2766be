"""The Admin API endpoints Seatwatch reads and the few it writes, as async methods.

Reads return the API's own JSON. No renaming here (the dlt source maps casing). Listings whose callers need
the page's ``Date`` or cursor yield :class:`Page`\\ s (users, events); the other listings yield items. Writes
(reclaiming seats) return a :class:`WriteReceipt`; docs/write-endpoints.md says what each one does, how it
fails and why retrying it is safe.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipeline.atlassian.client import AdminClient, ApiResponse
from pipeline.atlassian.errors import AtlassianApiError, UnexpectedResponseError, UserNotFoundError
from pipeline.atlassian.pagination import (
    Page,
    body_cursor_pages,
    cursor_pages,
    event_pages,
    stream_pages,
    url_link_pages,
)
from pipeline.config.shared import ALL_DIRECTORIES

log = logging.getLogger("seatwatch.api")

# Per-account refusals one per-user fan-out (last-active dates, role assignments) accepts before it takes
# the refusals for systemic (besides "more than half of the accounts").
PER_USER_FAILURES_TOLERATED = 5
LAST_ACTIVE_DATES = "/v1/orgs/{}/directory/users/{}/last-active-dates"
USER_ROLE_ASSIGNMENTS = "/v2/orgs/{}/directories/{}/users/{}/role-assignments"


@dataclass(frozen=True)
class WriteReceipt:
    """What the API answered to one accepted write."""

    status: int  # the HTTP status (204 from the v2 write endpoints)
    request_id: str | None  # the `Atl-Traceid` response header (else `X-Request-Id`): quote it to support
    at: datetime  # the response's Date header (the API's clock, UTC, whole seconds)
    attempts: int = 1  # requests it took: > 1 means an earlier attempt may already have made the change


def _data(body: Any, request_line: str) -> Any:
    if not isinstance(body, dict) or "data" not in body:
        raise UnexpectedResponseError(
            f"{request_line} returned no `data`; report this line to the Seatwatch maintainers."
        )
    return body["data"]


class AdminApi:
    """Endpoint methods over one :class:`AdminClient`."""

    def __init__(self, client: AdminClient) -> None:
        self.client = client

    async def _write(self, method: str, template: str, *ids: str, json: Any = None) -> WriteReceipt:
        # ids[1] is always the directory: a write changes one directory, "-" (all of them) is for reads.
        if ids[1] == ALL_DIRECTORIES:
            raise ValueError(f"{template} needs a directory id, not {ALL_DIRECTORIES!r} (all directories)")
        response = await self.client.request(method, template, *ids, json=json, write=True)
        return self._receipt(response)

    def _receipt(self, response: ApiResponse) -> WriteReceipt:
        # The API always sends Date; without one, the latest server time seen is the best stand-in.
        at = response.date or self.client.server_date_or_none() or datetime.now(UTC)
        return WriteReceipt(response.status, response.request_id, at, response.attempts)

    # Orgs and directories

    async def list_orgs(self) -> AsyncGenerator[dict[str, Any], None]:
        async for page in url_link_pages(self.client, "/v1/orgs"):
            for item in page.items:
                yield item

    async def get_org(self, org_id: str) -> dict[str, Any]:
        """The org's ``data`` object (``id``, ``attributes.name``, ...)."""
        response = await self.client.request("GET", "/v1/orgs/{}", org_id)
        return _data(response.body, "GET /v1/orgs/{}")

    async def list_directories(
        self, org_id: str, *, account_id: str | None = None
    ) -> AsyncGenerator[dict[str, Any], None]:
        """The org's directories; with ``account_id``, only the directories that user is in (the
        ``directoryId`` that suspending or restoring that user needs)."""
        params = {"accountId": account_id} if account_id else None
        async for page in cursor_pages(self.client, "/v2/orgs/{}/directories", org_id, params=params):
            for item in page.items:
                yield item

    # Users

    def iter_users(
        self,
        org_id: str,
        *,
        directory_id: str = ALL_DIRECTORIES,
        limit: int = 100,
        group_ids: Sequence[str] | None = None,
    ) -> AsyncGenerator[Page, None]:
        """v2 ``GET .../directories/{directoryId}/users`` (deprecated after 30 Jun 2027)."""
        params = {"limit": limit, "groupIds": list(group_ids) if group_ids else None}
        return cursor_pages(
            self.client, "/v2/orgs/{}/directories/{}/users", org_id, directory_id, params=params
        )

    async def count_users(self, org_id: str, *, directory_id: str = ALL_DIRECTORIES) -> int:
        """v2 ``GET .../directories/{directoryId}/users/count``: how many users the org lists."""
        template = "/v2/orgs/{}/directories/{}/users/count"
        response = await self.client.request("GET", template, org_id, directory_id)
        count = response.body.get("count") if isinstance(response.body, dict) else None
        if not isinstance(count, int):
            raise UnexpectedResponseError(
                f"GET {template} answered without a count; is the API version current?"
            )
        return count

    def search_users(
        self,
        org_id: str,
        *,
        directory_id: str = ALL_DIRECTORIES,
        expand: Sequence[str] = (),
        limit: int = 100,
        filters: dict[str, Any] | None = None,
    ) -> AsyncGenerator[Page, None]:
        """v2 ``POST .../users/search``; ``expand`` e.g. ``["productAccess", "groups"]``."""
        body: dict[str, Any] = {**(filters or {}), "limit": limit}
        if expand:
            body["expand"] = list(expand)
        return body_cursor_pages(
            self.client,
            "/v2/orgs/{}/directories/{}/users/search",
            org_id,
            directory_id,
            body=body,
            cursor_alone=False,
        )

    def iter_v1_users(self, org_id: str) -> AsyncGenerator[Page, None]:
        """Legacy v1 managed accounts (snake_case, ``links.next`` URLs)."""
        return url_link_pages(self.client, "/v1/orgs/{}/users", org_id)

    async def iter_group_member_ids(
        self, org_id: str, group_id: str, *, directory_id: str = ALL_DIRECTORIES
    ) -> AsyncGenerator[str, None]:
        """Account ids of a group's members: there is no members endpoint, so filter users by group."""
        async for page in self.iter_users(org_id, directory_id=directory_id, group_ids=[group_id]):
            for item in page.items:
                yield item["accountId"]

    # Last-active dates

    async def get_last_active_dates(self, org_id: str, account_id: str) -> dict[str, Any]:
        """One user's ``data`` (``product_access``, ``added_to_org``, ...), products merged over pages."""
        merged: dict[str, Any] | None = None
        async for page in cursor_pages(self.client, LAST_ACTIVE_DATES, org_id, account_id):
            data = _data(page.body, f"GET {LAST_ACTIVE_DATES}")
            if merged is None:
                merged = {**data, "product_access": list(data.get("product_access") or [])}
            else:
                merged["product_access"] += data.get("product_access") or []
        assert merged is not None  # the walk yields at least one page
        return merged

    async def map_last_active_dates(
        self, org_id: str, account_ids: Iterable[str]
    ) -> list[dict[str, Any] | None]:
        """:meth:`get_last_active_dates` for many users (see :meth:`_map_per_user`)."""
        return await self._map_per_user(org_id, account_ids, self.get_last_active_dates, "last-active dates")

    async def search_users_with_last_active(
        self, org_id: str, *, expand: Sequence[str] = (), limit: int = 100, pages_ahead: int = 2
    ) -> AsyncGenerator[tuple[Page, list[dict[str, Any] | None]], None]:
        """:meth:`search_users`, each page with its users' :meth:`map_last_active_dates`, in order.

        The per-user calls of up to ``pages_ahead`` later pages are already in flight while a page's last
        calls finish, so the fan-out does not drain at the end of every page; the client's concurrency
        bound and pacing still decide how many requests run. A page's failure is raised when it is its turn.
        """
        pending: list[tuple[Page, asyncio.Task[list[dict[str, Any] | None]]]] = []
        try:
            async for page in self.search_users(org_id, expand=expand, limit=limit):
                ids = [item["accountId"] for item in page.items]
                pending.append((page, asyncio.create_task(self.map_last_active_dates(org_id, ids))))
                if len(pending) > pages_ahead:
                    done, task = pending.pop(0)
                    yield done, await task
            while pending:
                done, task = pending.pop(0)
                yield done, await task
        finally:
            for _, task in pending:
                task.cancel()
            await asyncio.gather(*(task for _, task in pending), return_exceptions=True)

    async def get_user_role_assignments(
        self, org_id: str, account_id: str, *, directory_id: str = ALL_DIRECTORIES
    ) -> list[dict[str, Any]]:
        """v2 ``GET .../directories/{directoryId}/users/{accountId}/role-assignments``: the user's roles per
        resource, each with how it was assigned (``direct``, ``group_direct``, ``inferred``)."""
        return [
            item
            async for page in cursor_pages(
                self.client, USER_ROLE_ASSIGNMENTS, org_id, directory_id, account_id, params={"limit": 100}
            )
            for item in page.items
        ]

    async def map_user_role_assignments(
        self, org_id: str, account_ids: Iterable[str]
    ) -> list[dict[str, Any] | None]:
        """:meth:`get_user_role_assignments` for many users: ``{"data": [...]}`` per user, or a failure or
        None as :meth:`_map_per_user` says."""

        async def one(org: str, account_id: str) -> dict[str, Any]:
            return {"data": await self.get_user_role_assignments(org, account_id)}

        return await self._map_per_user(org_id, account_ids, one, "role assignments")

    async def _map_per_user(
        self,
        org_id: str,
        account_ids: Iterable[str],
        read: Callable[[str, str], Awaitable[dict[str, Any]]],
        what: str,
    ) -> list[dict[str, Any] | None]:
        """``read(org_id, account_id)`` for many users, ``max_concurrency`` at a time, in input order.

        A user removed since the listing (404 ``ADMIN-404-8``) gives None. Another 4xx for one account (an
        app, a customer, an unmanaged account) gives ``{"failure": {status, code, reason}}`` and the others go
        on; a systemic failure (the key refused with 401, retries exhausted, or most of the accounts of the
        call refused alike) cancels the remaining calls and is raised.
        """
        ids = list(account_ids)
        results: list[dict[str, Any] | None] = [None] * len(ids)
        pending = iter(range(len(ids)))
        refused: list[AtlassianApiError] = []

        async def worker() -> None:
            # Workers pull indexes instead of one task per user: memory stays flat for 100k users.
            for index in pending:
                try:
                    results[index] = await read(org_id, ids[index])
                except UserNotFoundError:
                    log.info("org %s: user %s left during the run; no %s", org_id, ids[index], what)
                except AtlassianApiError as error:
                    status = error.status_code or 0
                    if not 400 <= status < 500 or status in (401, 429):
                        raise
                    refused.append(error)
                    if len(refused) > max(PER_USER_FAILURES_TOLERATED, len(ids) // 2):
                        raise  # the same refusal for most accounts is the key or the org, not the accounts
                    log.warning("org %s: %s of %s refused: %s", org_id, what, ids[index], error)
                    failure = {"status": status, "code": error.code, "reason": str(error)}
                    results[index] = {"failure": failure}

        workers = [asyncio.create_task(worker()) for _ in range(min(len(ids), self.client.max_concurrency))]
        try:
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        return results

    # Audit log

    def iter_events_stream(
        self,
        org_id: str,
        cursor: str | None = None,
        from_ms: int | None = None,
        to_ms: int | None = None,
        limit: int = 200,
    ) -> AsyncGenerator[Page, None]:
        """``/events-stream`` in processing order, from ``cursor`` (kept from last time) or a time range."""
        params = {"from": from_ms, "to": to_ms, "limit": limit}
        return stream_pages(self.client, "/v1/orgs/{}/events-stream", org_id, params=params, cursor=cursor)

    def iter_events(
        self, org_id: str, from_ms: int, to_ms: int, limit: int | None = None
    ) -> AsyncGenerator[Page, None]:
        """``/events`` for a time window (10 requests/min: prefer :meth:`iter_events_stream`)."""
        params = {"from": from_ms, "to": to_ms, "limit": limit}
        return event_pages(self.client, "/v1/orgs/{}/events", org_id, params=params)

    async def list_event_actions(self, org_id: str) -> list[dict[str, Any]]:
        response = await self.client.request("GET", "/v1/orgs/{}/event-actions", org_id)
        return _data(response.body, "GET /v1/orgs/{}/event-actions")

    # Groups and workspaces

    async def iter_groups(
        self,
        org_id: str,
        *,
        directory_id: str = ALL_DIRECTORIES,
        limit: int = 100,
        group_ids: Sequence[str] | None = None,
    ) -> AsyncGenerator[dict[str, Any], None]:
        """v2 groups search; ``group_ids``: only these groups (reclaim reads a group just before acting)."""
        # counts come only when asked for: "the expand array is the only way to request them"
        body: dict[str, Any] = {"limit": limit, "expand": ["counts.users", "counts.resources"]}
        if group_ids:
            body["groupIds"] = list(group_ids)
        pages = body_cursor_pages(
            self.client,
            "/v2/orgs/{}/directories/{}/groups/search",
            org_id,
            directory_id,
            body=body,
            cursor_alone=False,
        )
        async for page in pages:
            for item in page.items:
                yield item

    async def get_group_role_assignments(
        self, org_id: str, directory_id: str, group_id: str
    ) -> list[dict[str, Any]]:
        template = "/v2/orgs/{}/directories/{}/groups/{}/role-assignments"
        return [
            item
            async for page in cursor_pages(self.client, template, org_id, directory_id, group_id)
            for item in page.items
        ]

    async def search_workspaces(
        self, org_id: str, *, limit: int = 100
    ) -> AsyncGenerator[dict[str, Any], None]:
        pages = body_cursor_pages(
            self.client, "/v2/orgs/{}/workspaces", org_id, body={"limit": limit}, cursor_alone=True
        )
        async for page in pages:
            for item in page.items:
                yield item

    # Writes (reclaiming seats). All four are idempotent in effect, so they go through the same pacing and
    # retries as reads; typed refusals: WriteForbidden, UserLimitReached, MembershipNotFound, GroupNotFound,
    # UserNotFoundError (pipeline.atlassian.errors).

    async def remove_group_member(
        self, org_id: str, directory_id: str, group_id: str, account_id: str
    ) -> WriteReceipt:
        """Remove a user from a group: the app access that group grants goes, other groups' stays.

        Raises MembershipNotFound when the user is not in the group (already removed: count it as done).
        """
        template = "/v2/orgs/{}/directories/{}/groups/{}/memberships/{}"
        return await self._write("DELETE", template, org_id, directory_id, group_id, account_id)

    async def add_group_member(
        self, org_id: str, directory_id: str, group_id: str, account_id: str
    ) -> WriteReceipt:
        """Add a user to a group (undo of a removal). Raises UserLimitReached when a product the group
        grants has no free seat; adding a current member changes nothing and succeeds."""
        template = "/v2/orgs/{}/directories/{}/groups/{}/memberships"
        return await self._write(
            "POST", template, org_id, directory_id, group_id, json={"accountId": account_id}
        )

    async def suspend_user(self, org_id: str, directory_id: str, account_id: str) -> WriteReceipt:
        """Suspend a user's access in a directory: not billed, roles and groups kept for a restore."""
        template = "/v2/orgs/{}/directories/{}/users/{}/suspend"
        return await self._write("POST", template, org_id, directory_id, account_id)

    async def restore_user(self, org_id: str, directory_id: str, account_id: str) -> WriteReceipt:
        """Restore a suspended user's access (roles and groups come back; billing resumes)."""
        template = "/v2/orgs/{}/directories/{}/users/{}/restore"
        return await self._write("POST", template, org_id, directory_id, account_id)
