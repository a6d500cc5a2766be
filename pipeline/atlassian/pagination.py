"""Async page iterators, one per pagination style of the Admin API (API notes, section 3).

Every page is yielded exactly once and in order. A cursor that comes back a second time raises instead of
looping (it would duplicate rows); so does a next-page URL on another host (it would leak the key).

Why not dlt's ``RESTClient`` paginators: they would bypass the client's pacing, retries and typed errors
(every request here goes through :meth:`AdminClient.request`), they have no rule for ``/events-stream``,
which returns a cursor even on its last page (it stops at the first :func:`caught_up` page), and none for
the POST searches whose cursor goes back in the body next to (users, groups) or instead of (workspaces) the
original filters.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from pipeline.atlassian.client import AdminClient, ApiResponse
from pipeline.atlassian.errors import UnexpectedResponseError


@dataclass(frozen=True)
class Page:
    items: list[Any]  # the page's `data` list ([] when `data` is an object or missing)
    body: dict[str, Any]  # the whole parsed page
    date: datetime | None  # the response's Date header: the API server's clock
    # The next page's token. For /events-stream the last page's value is the one to keep for next time.
    next_cursor: str | None


Fetch = Callable[[str | None], Awaitable[ApiResponse]]
NextOf = Callable[[dict[str, Any]], str | None]
IsLast = Callable[[Page], bool]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def links_next(body: dict[str, Any]) -> str | None:
    links = body.get("links")
    return _text(links.get("next")) if isinstance(links, dict) else None


def events_next(body: dict[str, Any]) -> str | None:
    """``meta.next`` (a cursor), else the ``cursor`` parameter of ``links.next`` (which may be a URL)."""
    meta = body.get("meta")
    cursor = _text(meta.get("next")) if isinstance(meta, dict) else None
    link = links_next(body)
    if cursor or not link:
        return cursor
    return httpx.URL(link).params.get("cursor") if _is_link(link) else link


def _is_link(value: str) -> bool:
    return value.startswith(("http://", "https://", "/"))


def caught_up(page: Page) -> bool:
    """The end of a stream: a page without events, or with fewer than the page size the server says it
    used (``meta.page_size``), which saves a call per run that would only return an empty page."""
    meta = page.body.get("meta")
    size = meta.get("page_size") if isinstance(meta, dict) else None
    short = isinstance(size, int) and not isinstance(size, bool) and len(page.items) < size
    return not page.items or short


async def _walk(
    fetch: Fetch,
    next_of: NextOf,
    request_line: str,
    *,
    start: str | None = None,
    is_last: IsLast | None = None,
) -> AsyncGenerator[Page, None]:
    cursor, seen = start, {start}
    while True:
        response = await fetch(cursor)
        if not isinstance(response.body, dict):
            raise UnexpectedResponseError(
                f"{request_line} returned a page that is not a JSON object; report this line to the "
                "Seatwatch maintainers."
            )
        data = response.body.get("data")
        page = Page(
            items=data if isinstance(data, list) else [],
            body=response.body,
            date=response.date,
            next_cursor=next_of(response.body),
        )
        yield page
        if page.next_cursor is None or (is_last is not None and is_last(page)):
            return
        if page.next_cursor in seen:
            raise UnexpectedResponseError(
                f"{request_line} returned the same next-page cursor twice; stopped so that no page is read "
                "twice. Run again; report this line if it repeats."
            )
        seen.add(page.next_cursor)
        cursor = page.next_cursor


def url_link_pages(
    client: AdminClient, template: str, *ids: str, params: dict[str, Any] | None = None
) -> AsyncGenerator[Page, None]:
    """v1 ``/orgs``, ``/orgs/{id}/users``: ``links.next`` is the full URL of the next page."""
    request_line = f"GET {template}"

    async def fetch(link: str | None) -> ApiResponse:
        if link is None:
            return await client.request("GET", template, *ids, params=params)
        if _is_link(link):
            return await client.request("GET", template, *ids, url=client.link_url(link, request_line))
        # A bare token where a URL was documented: send it the way every other endpoint takes one.
        return await client.request("GET", template, *ids, params={"cursor": link})

    return _walk(fetch, links_next, request_line)


def _get_pages(
    client: AdminClient,
    template: str,
    ids: tuple[str, ...],
    params: dict[str, Any] | None,
    *,
    keep_params: bool,
    next_of: NextOf,
    start: str | None = None,
    is_last: IsLast | None = None,
) -> AsyncGenerator[Page, None]:
    first = {key: value for key, value in (params or {}).items() if value is not None}

    async def fetch(cursor: str | None) -> ApiResponse:
        if cursor is None:
            query = first
        else:
            query = {**first, "cursor": cursor} if keep_params else {"cursor": cursor}
        return await client.request("GET", template, *ids, params=query or None)

    return _walk(fetch, next_of, f"GET {template}", start=start, is_last=is_last)


def cursor_pages(
    client: AdminClient, template: str, *ids: str, params: dict[str, Any] | None = None
) -> AsyncGenerator[Page, None]:
    """v2 GET listings and v1 last-active-dates: ``links.next`` is a cursor sent as ``?cursor=``.

    The other parameters are dropped from the follow-up requests: the API documents that it discards them
    when a cursor is present (the cursor carries the query).
    """
    return _get_pages(client, template, ids, params, keep_params=False, next_of=links_next)


def event_pages(
    client: AdminClient, template: str, *ids: str, params: dict[str, Any] | None = None
) -> AsyncGenerator[Page, None]:
    """v1 ``/events``: ``meta.next`` is a cursor. ``from``/``to`` are re-sent with it, since nothing says
    the cursor keeps the time window."""
    return _get_pages(client, template, ids, params, keep_params=True, next_of=events_next)


def stream_pages(
    client: AdminClient,
    template: str,
    *ids: str,
    params: dict[str, Any] | None = None,
    cursor: str | None = None,
) -> AsyncGenerator[Page, None]:
    """v1 ``/events-stream``: a cursor comes back even on the last page, so the stream ends at the first
    page that is :func:`caught_up`. That page is yielded too: its ``next_cursor`` is the one to store, and
    it points just after the events read, so stopping there neither skips nor repeats one."""
    return _get_pages(
        client, template, ids, params, keep_params=True, next_of=events_next, start=cursor, is_last=caught_up
    )


def body_cursor_pages(
    client: AdminClient, template: str, *ids: str, body: dict[str, Any], cursor_alone: bool
) -> AsyncGenerator[Page, None]:
    """POST searches: ``links.next`` goes back in the body as ``cursor``.

    ``cursor_alone`` for workspaces, whose spec forbids any other property next to a cursor. The users and
    groups searches get the original body plus the cursor: nothing says their cursor keeps the filters or
    ``expand``, and losing ``expand`` after page one would silently drop data.
    """

    async def fetch(cursor: str | None) -> ApiResponse:
        if cursor is None:
            payload = body
        else:
            payload = {"cursor": cursor} if cursor_alone else {**body, "cursor": cursor}
        return await client.request("POST", template, *ids, json=payload)

    return _walk(fetch, links_next, f"POST {template}")
