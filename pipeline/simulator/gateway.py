"""The API gateway in front of the handlers: clock header, auth, rate limits and faults.

A pure ASGI middleware (not ``BaseHTTPMiddleware``) so that it can hold back, cut or break a response, and
so that an exception raised to drop a connection reaches the server or the in-process transport unchanged.

For every request it adds ``Date`` (the simulated clock). For API paths (``/admin/...`` except
``/admin/_simulator``) it then gives the request an ``Atl-Traceid`` (the header Atlassian support asks for
to trace one request), checks the Bearer key (401 ``ProxyError``), counts the request in its rate class
(429 ``ProxyError``, ``X-RateLimit-*`` on every API response) and applies the fault plan. Control
paths (``/_simulator/...``) need the key too but are neither limited nor faulted, so a test can always steer
the simulator.
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline.simulator import errors, faults
from pipeline.simulator.ratelimit import Decision, endpoint_class
from pipeline.simulator.serialize import http_date
from pipeline.simulator.state import API_PREFIX, TRACE_ID, SimulatorState, json_response

_CONTROL_PREFIXES = ("/_simulator/", f"{API_PREFIX}/_simulator/")
_UNAUTHENTICATED = "<unauthenticated>"


def _is_control(path: str) -> bool:
    return path.startswith(_CONTROL_PREFIXES)


def _is_events(path: str) -> bool:
    """The audit-log endpoints, which accept only API keys created without scopes."""
    parts = path.removeprefix(API_PREFIX).split("/")
    return (
        len(parts) > 4
        and parts[1:3] == ["v1", "orgs"]
        and parts[4] in ("events", "events-stream", "event-actions")
    )


def _is_api(path: str) -> bool:
    return path.startswith(f"{API_PREFIX}/") and not _is_control(path)


class Gateway:
    def __init__(self, app: ASGIApp, state: SimulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if not (_is_api(path) or _is_control(path)):
            await self.app(scope, receive, self._stamped(send, {}))
            return
        authorized = self._authorized(scope)
        if _is_control(path):
            app = self.app if authorized else _error_app(errors.unauthorized())
            await app(scope, receive, self._stamped(send, {}))
            return

        limit_class = endpoint_class(path.removeprefix(API_PREFIX))
        limiter = self.state.limiter
        trace = {"atl-traceid": self.state.new_trace_id()}
        scope[TRACE_ID] = trace["atl-traceid"]
        if not authorized:
            headers = self._rate_headers(limiter.peek(_UNAUTHENTICATED, limit_class))
            await _error_app(errors.unauthorized())(scope, receive, self._stamped(send, headers | trace))
            return
        key = self.state.world.api_key
        decision = limiter.hit(key, limit_class)
        plan = self.state.faults.plan() if decision.allowed else faults.Plan()
        if plan.kind == faults.STORM:
            decision = limiter.exhaust(key, limit_class)
        stamped = self._stamped(send, self._rate_headers(decision) | trace)
        if not decision.allowed:
            await _error_app(errors.rate_limited())(scope, receive, stamped)
            return
        if self.state.world.config.scoped_key and _is_events(path):
            await _error_app(errors.insufficient_scope(path))(scope, receive, stamped)
            return
        if plan.delay_seconds:
            replay = await _wait(plan.delay_seconds, receive)
            if replay is None:
                return  # the client gave up (timeout): nobody is left to answer
            receive = replay
        if plan.kind == faults.ERROR:
            await _server_error_app(plan.status or 500, scope)(scope, receive, stamped)
        elif plan.kind in (faults.DROP, faults.MALFORMED):
            await self._mangle(plan.kind, scope, receive, stamped)
        else:
            await self.app(scope, receive, stamped)

    def _authorized(self, scope: Scope) -> bool:
        scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
        expected = self.state.world.api_key
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), expected.encode())

    def _rate_headers(self, decision: Decision) -> dict[str, str]:
        world = self.state.world
        return decision.headers(
            world.now,
            retry_after=world.config.retry_after,
            minute_precision=world.config.reset_precision == "minute",
        )

    def _stamped(self, send: Send, extra: dict[str, str]) -> Send:
        """``send`` that adds ``extra`` and a ``Date`` read when the response starts (after an ``advance``
        it already shows the new time)."""

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                added = {"date": http_date(self.state.world.now), **{k.lower(): v for k, v in extra.items()}}
                kept = [
                    (name, value) for name, value in message.get("headers", []) if name.decode() not in added
                ]
                encoded = [(name.encode(), value.encode()) for name, value in added.items()]
                message = {**message, "headers": kept + encoded}
            await send(message)

        return wrapped

    async def _mangle(self, kind: str, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the handler, then break its answer: cut the JSON in half, or drop the connection mid-body."""
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        headers = [(name, value) for name, value in start["headers"] if name.lower() != b"content-length"]
        if kind == faults.DROP:
            await faults.DroppedResponse(body, start["status"], headers)(scope, receive, send)
            return
        if start["status"] == 200:
            body = faults.truncate_json(body)
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _wait(seconds: float, receive: Receive) -> Receive | None:
    """Sleep before answering, but stop as soon as the client disconnects.

    A client that times out on a slow response closes the connection; answering it later would only keep a
    task alive (and a server that is shutting down waiting for it). The request body is read first and
    replayed to the handler. Returns the ``receive`` to use from now on, or None when the client is gone.
    """
    buffered: list[Message] = []
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        buffered.append(message)
        more = message.get("more_body", False)
    disconnect = asyncio.ensure_future(receive())
    try:
        await asyncio.wait_for(asyncio.shield(disconnect), timeout=seconds)
    except TimeoutError:
        disconnect.cancel()
    else:
        if disconnect.result()["type"] == "http.disconnect":
            return None

    async def replay() -> Message:
        return buffered.pop(0) if buffered else await receive()

    return replay


def _error_app(error: errors.ApiError) -> ASGIApp:
    return json_response(error.body, error.status)


def _server_error_app(status: int, scope: Scope) -> ASGIApp:
    """500 is the service's own ``ADMIN-500-1``; 502/503 come from the proxy in front, as text."""
    if status == 500:
        return _error_app(errors.internal_error(f"{scope['method']} {scope['path']}"))
    return faults.gateway_error(status)
