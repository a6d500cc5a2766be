"""Async HTTP client for the Atlassian Admin API: auth, pacing, retries, typed errors, counters.

One :class:`AdminClient` per API key (one org). Requests name a path template and its ids separately,
``request("GET", "/v1/orgs/{}/users", org_id)``, so the rate bucket (``GET /v1/orgs/{}/users``) is known
without guessing which path segments are ids, and ids are always URL-quoted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from importlib import metadata
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from pipeline.atlassian.errors import (
    ApiConnectionError,
    RetriesExhaustedError,
    UnsafeLinkError,
    error_for_status,
)
from pipeline.atlassian.pacing import Pacer, RateLimitHeaders, server_date
from pipeline.atlassian.ratelimit_wait import RateLimitBudget
from pipeline.atlassian.retry import RETRYABLE_STATUSES, RetryPolicy
from pipeline.config.secret import Secret

log = logging.getLogger("seatwatch.api")

OnCall = Callable[[str, int | None], None]
_WHAT_LIMIT = 200


@dataclass
class BucketStats:
    calls: int = 0
    retries: int = 0
    rate_limited: int = 0
    last_date: datetime | None = None  # server Date of the latest answer in this bucket


@dataclass
class ApiStats:
    """Counters of one client. Mutated only on the client's event loop; plain ints are safe to read anywhere.

    ``calls`` counts HTTP requests sent (retries included), ``retries`` the re-sends, ``rate_limited`` the
    429s received. ``by_bucket`` splits them by rate bucket (method + path template).
    """

    calls: int = 0
    retries: int = 0
    rate_limited: int = 0
    by_bucket: dict[str, BucketStats] = field(default_factory=dict)

    def bucket(self, key: str) -> BucketStats:
        return self.by_bucket.setdefault(key, BucketStats())

    def as_dict(self) -> dict[str, int]:
        return {"calls": self.calls, "retries": self.retries, "rate_limited": self.rate_limited}


# The response header that names one request for Atlassian support ("Atl-Traceid"); X-Request-Id is the
# common name other gateways use.
REQUEST_ID_HEADERS = ("atl-traceid", "x-request-id")


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any  # parsed JSON; None for an empty 204
    date: datetime | None  # the response's Date header: the API server's clock
    request_id: str | None = None  # see REQUEST_ID_HEADERS
    attempts: int = 1  # requests sent for this answer (retries included)


@dataclass(frozen=True)
class _Failure:
    """A retryable outcome: what happened and how long to back off before the next attempt."""

    what: str
    backoff: float
    status: int | None = None
    connect: bool = False
    windowed: bool = False  # a 429 that named its window: waited out by the pacer, not an attempt


def fill_path(template: str, ids: tuple[str, ...]) -> str:
    """``/v1/orgs/{}/users`` + ``("o 1",)`` → ``/v1/orgs/o%201/users``.

    Ids are quoted so none can add a path segment or a query; ``:`` stays as is because account ids contain
    it (``557058:…``) and it is legal in a path segment.
    """
    if template.count("{}") != len(ids):
        raise ValueError(f"{template} takes {template.count('{}')} ids, got {len(ids)}")
    for value in ids:
        if value in ("", ".", ".."):
            raise ValueError(f"invalid id {value!r} for {template}")
    return template.format(*(quote(value, safe=":@") for value in ids))


def default_user_agent() -> str:
    try:
        return f"seatwatch/{metadata.version('seatwatch')}"
    except metadata.PackageNotFoundError:
        return "seatwatch/unknown"


def _transport_failure(exc: httpx.TransportError) -> str:
    """What went wrong on the wire, in words (httpx's class names mean nothing to a person)."""
    kinds = [
        (httpx.ConnectTimeout, "connection timed out"),
        (httpx.ConnectError, "connection failed"),
        (httpx.TimeoutException, "no answer within the timeout"),
        (httpx.RemoteProtocolError, "connection dropped"),
    ]
    kind = next((words for cls, words in kinds if isinstance(exc, cls)), "network error")
    detail = " ".join(str(exc).split())
    return f"{kind}: {detail}" if detail else kind


class AdminClient:
    """Paced, retrying access to one org's Admin API. Use as ``async with AdminClient(...) as client``.

    ``max_concurrency`` bounds requests in flight (fan-outs included); ``max_attempts`` bounds attempts per
    request (the first included); ``max_wait`` caps any single wait; ``on_call(bucket, status)`` is called
    after every attempt (status None when no response came back).
    """

    def __init__(
        self,
        base_url: str,
        api_key: Secret,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        max_attempts: int = 6,
        max_concurrency: int = 8,
        backoff_base: float = 0.5,
        max_wait: float = 120.0,
        max_rate_limited_wait: float = 900.0,
        user_agent: str | None = None,
        on_call: OnCall | None = None,
    ) -> None:
        if not isinstance(api_key, Secret):
            raise TypeError("api_key must be a Secret (pipeline.config.secret), never a plain str")
        url = httpx.URL(base_url.rstrip("/"))
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"base_url must be an absolute http(s) URL, got {base_url!r}")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self._base = str(url)
        self._origin = (url.scheme, url.host, url.port)
        self._key = api_key
        self._policy = RetryPolicy(max_attempts=max_attempts, backoff_base=backoff_base, max_wait=max_wait)
        self._max_concurrency = max_concurrency
        self._slots = asyncio.Semaphore(max_concurrency)
        self._pacer = Pacer()
        self._rate_wait = RateLimitBudget(max_rate_limited_wait)
        self._on_call = on_call
        self._latest_date: datetime | None = None
        self.stats = ApiStats()
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=timeout,
            follow_redirects=False,  # a redirect could carry the key elsewhere; the API does not redirect
            limits=httpx.Limits(max_connections=max_concurrency, max_keepalive_connections=max_concurrency),
            headers={
                "Authorization": f"Bearer {api_key.reveal()}",
                "Accept": "application/json",
                "User-Agent": user_agent or default_user_agent(),
            },
        )

    def __repr__(self) -> str:
        return f"AdminClient(base_url={self._base!r})"

    async def __aenter__(self) -> AdminClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def max_concurrency(self) -> int:
        return self._max_concurrency

    def server_now(self) -> datetime:
        """The API server's clock: the Date header of the latest response (one-second resolution)."""
        if self._latest_date is None:
            raise RuntimeError("no response with a Date header yet; call the API first (e.g. get_org)")
        return self._latest_date

    def server_date_or_none(self) -> datetime | None:
        """:meth:`server_now`, or None before the first response with a Date header."""
        return self._latest_date

    def server_date(self, bucket: str) -> datetime | None:
        """The Date header of the latest response in one rate bucket, e.g. ``"POST /v2/orgs/{}/…"``."""
        stats = self.stats.by_bucket.get(bucket)
        return stats.last_date if stats else None

    def link_url(self, link: str, request_line: str) -> str:
        """A ``links.next`` URL, resolved against the base and refused unless it is on the API's host."""
        url = httpx.URL(self._base).join(link)
        if (url.scheme, url.host, url.port) != self._origin:
            raise UnsafeLinkError(
                f"Refusing the next-page link of {request_line}: it points at {url.scheme}://{url.host}, "
                f"not at the API host {self._origin[0]}://{self._origin[1]}, and following it would send the "
                "API key there. Check that ATLASSIAN_API_BASE_URL names the host the API answers from."
            )
        return str(url)

    async def request(
        self,
        method: str,
        template: str,
        *ids: str,
        params: dict[str, Any] | None = None,
        json: Any = None,
        url: str | None = None,
        write: bool = False,
    ) -> ApiResponse:
        """One API call with pacing and retries. ``url`` (a checked next-page link) replaces the path.

        ``write``: the call changes something (docs/write-endpoints.md): its refusals get the write errors
        (``WriteForbidden``, ``UserLimitReached``, ...), and a success may come without a body.
        """
        bucket = f"{method} {template}"
        target = url or self._base + fill_path(template, ids)
        request_line = f"{method} {httpx.URL(target).path}"
        attempts = self._policy.max_attempts
        failure: _Failure | None = None
        attempt = 0
        while True:
            if failure is None or not failure.windowed:
                attempt += 1  # a 429 with a Reset is the API pacing us, not a failed attempt
                if attempt > attempts:
                    break
            if failure is not None:
                self.stats.retries += 1
                self.stats.bucket(bucket).retries += 1
                log.info(
                    "%s: %s; attempt %d of %d in %.1f s",
                    bucket,
                    failure.what,
                    attempt,
                    attempts,
                    failure.backoff,
                )
                await asyncio.sleep(failure.backoff)
            outcome = await self._attempt(method, bucket, target, request_line, params, json, attempt, write)
            if isinstance(outcome, ApiResponse):
                return replace(outcome, attempts=attempt) if attempt > 1 else outcome
            failure = outcome
        assert failure is not None
        # Raised here, outside any `except`, so no httpx exception (which holds the request and its
        # Authorization header) is chained to it.
        if failure.connect:
            raise ApiConnectionError(
                f"Cannot connect to the Atlassian API at {self._base} after {attempts} attempts "
                f"({failure.what}). Check ATLASSIAN_API_BASE_URL and the network."
            )
        raise RetriesExhaustedError(
            f"{request_line} failed after {attempts} attempts (last: {failure.what}). The Atlassian API is "
            "unavailable or overloaded; run again later.",
            status_code=failure.status,
        )

    async def _attempt(
        self,
        method: str,
        bucket: str,
        target: str,
        request_line: str,
        params: dict[str, Any] | None,
        json: Any,
        attempt: int,
        write: bool,
    ) -> ApiResponse | _Failure:
        response: httpx.Response | None = None
        failure: _Failure | None = None
        async with self._slots:
            ticket = await self._pacer.acquire(bucket)
            self.stats.calls += 1
            self.stats.bucket(bucket).calls += 1
            started = time.monotonic()
            try:
                response = await self._http.request(method, target, params=params, json=json)
            except httpx.TransportError as exc:
                # Timeouts, refused or dropped connections, RemoteProtocolError on a reused connection.
                what = self._redact(_transport_failure(exc))[:_WHAT_LIMIT]
                connect = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                failure = _Failure(what, self._policy.backoff(attempt), connect=connect)
            finally:
                # Runs on cancellation too: every granted request is handed back to the pacer.
                info = RateLimitHeaders.parse(response.headers) if response is not None else None
                ok = response is not None and response.is_success
                self._pacer.settle(ticket, ok=ok, info=info)
        status = response.status_code if response is not None else None
        outcome = status if failure is None else failure.what
        log.debug("%s → %s in %.0f ms", bucket, outcome, (time.monotonic() - started) * 1000)
        if self._on_call is not None:
            self._on_call(bucket, status)
        if response is None:
            assert failure is not None
            return failure
        return self._interpret(response, bucket, request_line, attempt, write)

    def _interpret(
        self, response: httpx.Response, bucket: str, request_line: str, attempt: int, write: bool
    ) -> ApiResponse | _Failure:
        status = response.status_code
        date = server_date(response.headers)
        if date is not None:
            self._latest_date = date
            self.stats.bucket(bucket).last_date = date
        if status == 429:
            wait = self._policy.rate_limited_wait(response.headers, attempt)
            self.stats.rate_limited += 1
            self.stats.bucket(bucket).rate_limited += 1
            # The pacer holds every request of this bucket, not only this one.
            self._pacer.block(bucket, wait)
            log.info("%s: rate limited (HTTP 429); holding the endpoint for %.1f s", bucket, wait)
            # Under a second is no window (Retry-After: 0 would loop at once): that counts as an attempt.
            windowed = wait >= 1.0 and self._policy.names_window(response.headers)
            if windowed:
                self._rate_wait.spend(wait, request_line)  # raises once the total wait is too long
            return _Failure("HTTP 429 rate limited", 0.0, status=429, windowed=windowed)
        if status in RETRYABLE_STATUSES:
            return _Failure(f"HTTP {status}", self._policy.backoff(attempt), status=status)
        if not response.is_success:
            error = error_for_status(status, _json_or_none(response), request_line, self._redact, write=write)
            error.attempts = attempt
            raise error
        request_id = next((response.headers[n] for n in REQUEST_ID_HEADERS if n in response.headers), None)
        if status == 204 or (write and not response.content):
            # A write may answer 200/201 without a body; only a read must carry JSON.
            return ApiResponse(status, None, date, request_id)
        try:
            # orjson: several times faster than json on the users pages (UTF-8, as JSON must be); its
            # JSONDecodeError is a ValueError.
            body = orjson.loads(response.content)
        except ValueError:
            return _Failure(f"HTTP {status} with a body that is not JSON", self._policy.backoff(attempt))
        return ApiResponse(status, body, date, request_id)

    def _redact(self, text: str) -> str:
        key = self._key.reveal()
        return text.replace(key, "***") if key else text


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
