"""Synchronous access to the async client, for dlt resources (which are plain generators).

The client lives on one event loop in a background thread (an anyio blocking portal). Every call and every
page is handed across with ``portal.call``, so pacing, the concurrency bound and the connection pool are
shared by everything that uses one :class:`SyncAdminApi`, from any thread.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Coroutine, Iterable, Iterator
from contextlib import ExitStack
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from anyio.from_thread import BlockingPortal, start_blocking_portal

from pipeline.atlassian.client import AdminClient, ApiStats
from pipeline.atlassian.endpoints import ALL_DIRECTORIES, AdminApi
from pipeline.atlassian.pagination import Page
from pipeline.config.secret import Secret

T = TypeVar("T")
_DONE = object()


async def _next_or_done(iterator: AsyncGenerator[T, None]) -> T | object:
    # A sentinel instead of StopAsyncIteration: that exception must not cross the portal's future.
    try:
        return await anext(iterator)
    except StopAsyncIteration:
        return _DONE


class SyncAdminApi:
    """``with SyncAdminApi(base_url, api_key, transport=...) as api:``; options go to :class:`AdminClient`."""

    def __init__(self, base_url: str, api_key: Secret, **client_options: Any) -> None:
        self._base_url = base_url
        self._api_key = api_key
        self._client_options = client_options
        self._stack: ExitStack | None = None
        self._portal: BlockingPortal | None = None
        self._api: AdminApi | None = None
        self._client: AdminClient | None = None  # kept after close, so counters stay readable

    def __repr__(self) -> str:
        return f"SyncAdminApi(base_url={self._base_url!r})"

    def __enter__(self) -> SyncAdminApi:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def open(self) -> None:
        if self._portal is not None:
            return
        with ExitStack() as stack:
            portal = stack.enter_context(start_blocking_portal())
            # Built on the loop thread so every asyncio object binds to the loop it is used on.
            client = portal.call(lambda: AdminClient(self._base_url, self._api_key, **self._client_options))
            self._client, self._api = client, AdminApi(client)
            self._portal, self._stack = portal, stack.pop_all()

    def close(self) -> None:
        """Close the connections and stop the loop thread. Safe to call twice."""
        if self._portal is None or self._stack is None or self._api is None:
            return
        portal, stack, api = self._portal, self._stack, self._api
        self._portal = self._stack = self._api = None
        with stack:
            portal.call(api.client.aclose)

    @property
    def _ready(self) -> tuple[BlockingPortal, AdminApi]:
        if self._portal is None or self._api is None:
            raise RuntimeError("SyncAdminApi is not open: use it as a context manager")
        return self._portal, self._api

    def _call(self, func: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
        portal, _ = self._ready
        return portal.call(func, *args)

    def _iterate(self, iterator: AsyncGenerator[T, None]) -> Iterator[T]:
        portal, _ = self._ready
        try:
            while (item := portal.call(_next_or_done, iterator)) is not _DONE:
                yield item  # type: ignore[misc]
        finally:
            # A caller that stops early (break, an error in its loop) still closes the async generator.
            if self._portal is portal:
                portal.call(iterator.aclose)

    # Client state (readable after close)

    @property
    def client(self) -> AdminClient:
        if self._client is None:
            raise RuntimeError("SyncAdminApi was never opened: use it as a context manager")
        return self._client

    @property
    def stats(self) -> ApiStats:
        return self.client.stats

    def server_now(self) -> datetime:
        """The Date header of the latest response (see :meth:`AdminClient.server_now`)."""
        return self.client.server_now()

    # Endpoints (see AdminApi for what each returns)

    def list_orgs(self) -> Iterator[dict[str, Any]]:
        return self._iterate(self._ready[1].list_orgs())

    def get_org(self, org_id: str) -> dict[str, Any]:
        return self._call(self._ready[1].get_org, org_id)

    def list_directories(self, org_id: str) -> Iterator[dict[str, Any]]:
        return self._iterate(self._ready[1].list_directories(org_id))

    def iter_users(self, org_id: str, **options: Any) -> Iterator[Page]:
        return self._iterate(self._ready[1].iter_users(org_id, **options))

    def count_users(self, org_id: str, **options: Any) -> int:
        return self._call(partial(self._ready[1].count_users, org_id, **options))

    def search_users(self, org_id: str, **options: Any) -> Iterator[Page]:
        return self._iterate(self._ready[1].search_users(org_id, **options))

    def iter_v1_users(self, org_id: str) -> Iterator[Page]:
        return self._iterate(self._ready[1].iter_v1_users(org_id))

    def iter_group_member_ids(
        self, org_id: str, group_id: str, *, directory_id: str = ALL_DIRECTORIES
    ) -> Iterator[str]:
        return self._iterate(
            self._ready[1].iter_group_member_ids(org_id, group_id, directory_id=directory_id)
        )

    def get_last_active_dates(self, org_id: str, account_id: str) -> dict[str, Any]:
        return self._call(self._ready[1].get_last_active_dates, org_id, account_id)

    def map_last_active_dates(self, org_id: str, account_ids: Iterable[str]) -> list[dict[str, Any] | None]:
        return self._call(self._ready[1].map_last_active_dates, org_id, list(account_ids))

    def iter_events_stream(
        self,
        org_id: str,
        cursor: str | None = None,
        from_ms: int | None = None,
        to_ms: int | None = None,
        limit: int = 200,
    ) -> Iterator[Page]:
        return self._iterate(self._ready[1].iter_events_stream(org_id, cursor, from_ms, to_ms, limit))

    def iter_events(self, org_id: str, from_ms: int, to_ms: int, limit: int | None = None) -> Iterator[Page]:
        return self._iterate(self._ready[1].iter_events(org_id, from_ms, to_ms, limit))

    def list_event_actions(self, org_id: str) -> list[dict[str, Any]]:
        return self._call(self._ready[1].list_event_actions, org_id)

    def iter_groups(self, org_id: str, **options: Any) -> Iterator[dict[str, Any]]:
        return self._iterate(self._ready[1].iter_groups(org_id, **options))

    def get_group_role_assignments(
        self, org_id: str, directory_id: str, group_id: str
    ) -> list[dict[str, Any]]:
        return self._call(self._ready[1].get_group_role_assignments, org_id, directory_id, group_id)

    def search_workspaces(self, org_id: str, *, limit: int = 100) -> Iterator[dict[str, Any]]:
        return self._iterate(self._ready[1].search_workspaces(org_id, limit=limit))
