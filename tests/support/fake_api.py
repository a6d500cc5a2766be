"""Purpose-built fake Admin API servers for the client tests (independent of pipeline.simulator)."""

from __future__ import annotations

import asyncio
import json
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx

from pipeline.atlassian import AdminApi, AdminClient
from pipeline.config.secret import Secret

KEY = "sk-live-7f3a9c0e51d24b8e-TOPSECRET"
BASE = "https://api.test/admin"
ORG = "8a130dbc-06bc-1a05-jjk7-9822046115j1"
# The server's clock is years away from ours: only Reset − Date from one response can be trusted.
SERVER_TIME = datetime(2031, 5, 17, 9, 0, 0, tzinfo=UTC)

Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


def http_date(moment: datetime = SERVER_TIME) -> str:
    return format_datetime(moment, usegmt=True)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def reply(status: int = 200, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    """A JSON response stamped with the server's Date."""
    return httpx.Response(status, json=body, headers={"Date": http_date(), **(headers or {})})


def sequence(*outcomes: httpx.Response | Exception) -> Handler:
    """A handler answering with each outcome in turn (an Exception is raised); the last one repeats."""
    remaining = list(outcomes)

    def handle(request: httpx.Request) -> httpx.Response:
        outcome = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return handle


def request_json(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None


def two_pages(first: Any, then: Any, *, cursor_in: str = "query") -> Handler:
    """An endpoint of two pages: ``first`` until the request carries a cursor, then ``then``.

    ``cursor_in`` is where the client sends it: the query string (GET) or the JSON body (v2 POST searches).
    """

    def handle(request: httpx.Request) -> httpx.Response:
        sent = request.url.params if cursor_in == "query" else request_json(request)
        return reply(body=then if "cursor" in sent else first)

    return handle


class FakeApi:
    """Routes ``(method, path)`` to handlers and records every request it receives."""

    def __init__(self, latency: float = 0.0, fallback: Handler | None = None) -> None:
        self.latency = latency
        self.fallback = fallback  # answers every request no route matches
        self.routes: dict[tuple[str, str], Handler] = {}
        self.requests: list[httpx.Request] = []
        self.in_flight = 0
        self.max_in_flight = 0

    def route(self, method: str, path: str, handler: Handler | httpx.Response) -> None:
        self.routes[(method, "/admin" + path)] = (
            sequence(handler) if isinstance(handler, httpx.Response) else handler
        )

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            handler = self.routes.get((request.method, request.url.path), self.fallback)
            if handler is None:
                return reply(404, {"message": "no such route"})
            result = handler(request)
            return await result if isinstance(result, Awaitable) else result
        finally:
            self.in_flight -= 1

    def paths(self) -> list[str]:
        return [request.url.path.removeprefix("/admin") for request in self.requests]

    def client(self, **options: Any) -> AdminClient:
        options.setdefault("backoff_base", 0.001)
        return AdminClient(BASE, Secret(KEY), transport=httpx.MockTransport(self.handle), **options)

    def api(self, **options: Any) -> AdminApi:
        return AdminApi(self.client(**options))


async def collect(pages: Any) -> list[Any]:
    return [page async for page in pages]


def leaks(error: BaseException, secret: str = KEY) -> list[str]:
    """Where ``secret`` shows in an exception: str, repr, the printed traceback, or anything chained."""
    found = []
    if secret in str(error) or secret in repr(error):
        found.append("str/repr")
    if secret in "".join(traceback.format_exception(error)):
        found.append("traceback")
    if error.__cause__ is not None or error.__context__ is not None:
        found.append("chained exception")
    return found


class FixedWindowLimiter:
    """A server-side fixed window of ``limit`` requests per ``window`` real seconds, reported on a
    frozen simulated clock (like the project's simulator): Reset = server time + real seconds left."""

    def __init__(self, limit: int, window: float, server_time: datetime = SERVER_TIME) -> None:
        self.limit, self.window, self.server_time = limit, window, server_time
        self.started: float | None = None
        self.count = 0
        self.served = 0
        self.rejected = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        now = time.monotonic()
        if self.started is None or now >= self.started + self.window:
            self.started, self.count = now, 0
        self.count += 1
        left = self.started + self.window - now
        headers = {
            "Date": http_date(self.server_time),
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - self.count)),
            "X-RateLimit-Reset": iso(self.server_time + timedelta(seconds=left)),
        }
        if self.count > self.limit:
            self.rejected += 1
            return httpx.Response(429, json={"code": 429, "message": "Too Many Requests"}, headers=headers)
        self.served += 1
        return httpx.Response(200, json={"data": {"product_access": []}}, headers=headers)
