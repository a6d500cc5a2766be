"""The one place synchronous code (dlt resources are plain generators) calls the async client.

The client lives on one event loop in a background thread (an anyio blocking portal). :class:`SyncAdminApi`
writes no endpoint of its own: any :class:`~pipeline.atlassian.endpoints.AdminApi` method is called on the
loop, a coroutine's result is handed back and an async generator becomes a blocking iterator, page by page.
So pacing, the concurrency bound (the per-user fan-out runs on the loop) and the connection pool are shared
by everything that uses one :class:`SyncAdminApi`, from any thread. Why async at all: docs/architecture.md.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncGenerator, Callable, Coroutine, Iterator
from contextlib import ExitStack
from datetime import datetime
from typing import Any, TypeVar

from anyio.from_thread import BlockingPortal, start_blocking_portal

from pipeline.atlassian.client import AdminClient, ApiStats
from pipeline.atlassian.endpoints import AdminApi
from pipeline.config.secret import Secret

T = TypeVar("T")
_DONE = object()


async def _await(awaitable: Coroutine[Any, Any, T]) -> T:
    return await awaitable


async def _next_or_done(iterator: AsyncGenerator[T, None]) -> T | object:
    # A sentinel instead of StopAsyncIteration: that exception must not cross the portal's future.
    try:
        return await anext(iterator)
    except StopAsyncIteration:
        return _DONE


class _ReadAhead:
    """Reads an async generator on the loop up to ``ahead`` items before they are asked for, so the next
    page's round trip overlaps with the caller's work on this one. The same items, errors and calls as
    reading it item by item, as long as the caller reads to the end (a caller that stops early may have
    caused up to ``ahead`` more requests)."""

    def __init__(self, iterator: AsyncGenerator[Any, None], ahead: int) -> None:
        self._iterator = iterator
        self._queue: asyncio.Queue[tuple[Any, BaseException | None]] = asyncio.Queue(ahead)
        self._task = asyncio.create_task(self._pump())

    async def _pump(self) -> None:
        try:
            async for item in self._iterator:
                await self._queue.put((item, None))
        except Exception as error:  # handed to the reader in its place in the sequence
            await self._queue.put((None, error))
            return
        await self._queue.put((_DONE, None))

    async def next(self) -> Any:
        item, error = await self._queue.get()
        if error is not None:
            raise error
        return item

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self._iterator.aclose()


async def _start_read_ahead(iterator: AsyncGenerator[Any, None], ahead: int) -> _ReadAhead:
    return _ReadAhead(iterator, ahead)  # built on the loop: its queue and task belong to it


class SyncAdminApi:
    """``with SyncAdminApi(base_url, api_key, transport=...) as api:``; options go to :class:`AdminClient`.

    ``read_ahead`` > 0: listings are read that many pages ahead of the caller (see :class:`_ReadAhead`); the
    extract, which reads every listing to its end, uses it so the API's time and its own overlap.
    """

    def __init__(self, base_url: str, api_key: Secret, *, read_ahead: int = 0, **client_options: Any) -> None:
        self._base_url = base_url
        self._api_key = api_key
        self._read_ahead = read_ahead
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

    def _iterate(self, iterator: AsyncGenerator[T, None]) -> Iterator[T]:
        portal, _ = self._ready
        if self._read_ahead > 0:
            return self._iterate_ahead(portal, iterator)
        return self._iterate_one_by_one(portal, iterator)

    def _iterate_ahead(self, portal: BlockingPortal, iterator: AsyncGenerator[T, None]) -> Iterator[T]:
        reader = portal.call(_start_read_ahead, iterator, self._read_ahead)
        try:
            while (item := portal.call(reader.next)) is not _DONE:
                yield item
        finally:
            if self._portal is portal:
                portal.call(reader.close)

    def _iterate_one_by_one(self, portal: BlockingPortal, iterator: AsyncGenerator[T, None]) -> Iterator[T]:
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

    # Endpoints: every public AdminApi method, blocking (see AdminApi for what each returns)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_") or not callable(getattr(AdminApi, name, None)):
            raise AttributeError(name)

        def blocking(*args: Any, **kwargs: Any) -> Any:
            portal, api = self._ready
            result = getattr(api, name)(*args, **kwargs)  # a coroutine or an async generator: not run yet
            if inspect.isasyncgen(result):
                return self._iterate(result)
            if inspect.iscoroutine(result):
                return portal.call(_await, result)
            return result

        return blocking
