"""Fault injection: what can go wrong between a client and the real API, on demand.

Off by default. Each API request draws a plan from a dedicated RNG seeded by ``FaultConfig.seed`` (so the
world's own randomness and the fault sequence never disturb each other, and a run is reproducible):

* latency: ``latency_ms`` ± ``jitter_ms`` before answering (``asyncio.sleep``, the loop stays free);
* ``error_rate``: 500 (``ADMIN-500-1`` body), 502 (HTML page) or 503 (plain text), like a proxy in front;
* ``slow_rate``: answer only after ``slow_seconds`` (meant to exceed the client's timeout);
* ``drop_rate``: the connection dies mid-response (see :class:`DroppedResponse`);
* ``malformed_rate``: a 200 whose JSON body is cut in half;
* ``storm_requests``: the next N requests get 429, whatever the counters say;
* lost answers (writes only, :meth:`FaultInjector.lose_answer`): a write that changed something is carried
  out, then answered 504 or cut off, so a client that retries finds it done (the retry, which changes
  nothing, is answered): ``lost_answer_rate`` draws it for each such write (504 or a dropped connection,
  one each), ``lose_first_writes`` loses the first answer of each resource (same change, same account and
  group) with 504, so a test knows which ones.

The config can be replaced at run time (``POST /_simulator/faults``); that re-seeds the RNG and re-arms the
storm.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

import httpx
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from pipeline.simulator.model import FaultConfig

ERROR = "error"
SLOW = "slow"
DROP = "drop"
MALFORMED = "malformed"
STORM = "storm"

_GATEWAY_BODIES = {
    502: (
        "text/html",
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
        "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n",
    ),
    503: (
        "text/plain",
        "upstream connect error or disconnect/reset before headers. reset reason: connection termination",
    ),
    504: ("text/plain", "upstream request timeout"),
}


@dataclass(frozen=True)
class Plan:
    """What to do to one request: wait ``delay_seconds``, then apply ``kind`` (None: answer normally)."""

    delay_seconds: float = 0.0
    kind: str | None = None
    status: int | None = None


class FaultInjector:
    def __init__(self, config: FaultConfig) -> None:
        self._lock = threading.Lock()
        self.replace(config)

    @property
    def config(self) -> FaultConfig:
        return self._config

    def replace(self, config: FaultConfig) -> None:
        with self._lock:
            self._config = config
            self._rng = random.Random(config.seed)
            self._storm_left = int(config.storm_requests)
            self._answered: set[tuple[str, ...]] = set()  # resources whose first answer was lost already

    def plan(self) -> Plan:
        """Draw the fate of the next API request."""
        with self._lock:
            config = self._config
            if self._storm_left > 0:
                self._storm_left -= 1
                return Plan(kind=STORM)
            delay = 0.0
            if config.latency_ms or config.jitter_ms:
                jitter = self._rng.uniform(-config.jitter_ms, config.jitter_ms)
                delay = max(0.0, config.latency_ms + jitter) / 1000
            kind = self._draw_kind(config)
            if kind is None:
                return Plan(delay_seconds=delay)
            if kind == ERROR:
                return Plan(delay_seconds=delay, kind=ERROR, status=self._rng.choice((500, 502, 503)))
            if kind == SLOW:
                return Plan(delay_seconds=delay + config.slow_seconds, kind=SLOW)
            return Plan(delay_seconds=delay, kind=kind)

    def lose_answer(self, resource: tuple[str, ...]) -> str | None:
        """For a write the API just carried out: ``ERROR`` (answer 504), ``DROP`` or None (answer it)."""
        with self._lock:
            config = self._config
            if config.lose_first_writes and resource not in self._answered:
                self._answered.add(resource)
                return ERROR
            # Drawn only when the rate is set, so the other faults' sequence stays what it was.
            if config.lost_answer_rate and self._rng.random() < config.lost_answer_rate:
                return self._rng.choice((ERROR, DROP))
            return None

    def _draw_kind(self, config: FaultConfig) -> str | None:
        """One uniform draw split into bands, one per fault, so the rates are exact shares of requests."""
        draw = self._rng.random()
        upper = 0.0
        for kind, rate in (
            (ERROR, config.error_rate),
            (SLOW, config.slow_rate),
            (DROP, config.drop_rate),
            (MALFORMED, config.malformed_rate),
        ):
            upper += rate
            if draw < upper:
                return kind
        return None


def check_fault_config(config: FaultConfig) -> None:
    """ValueError unless the rates are probabilities that fit in one draw and the durations are sane."""
    rates = [
        float(rate) for rate in (config.error_rate, config.slow_rate, config.drop_rate, config.malformed_rate)
    ]
    if any(not 0 <= rate <= 1 for rate in rates) or sum(rates) > 1:
        raise ValueError("fault rates must each be between 0 and 1 and add up to at most 1")
    if not 0 <= float(config.lost_answer_rate) <= 1:
        raise ValueError("lost_answer_rate must be between 0 and 1")
    if min(float(config.latency_ms), float(config.jitter_ms), float(config.slow_seconds)) < 0:
        raise ValueError("latency_ms, jitter_ms and slow_seconds must not be negative")
    if int(config.storm_requests) < 0:
        raise ValueError("storm_requests must not be negative")


def gateway_error(status: int) -> Response:
    """502/503 as an HTTP proxy sends them: not JSON, so a client must not assume an error body shape."""
    media_type, body = _GATEWAY_BODIES[status]
    return Response(body, status_code=status, media_type=media_type)


def truncate_json(body: bytes) -> bytes:
    """A JSON document cut in the middle: parses as nothing, like a page lost halfway by a proxy."""
    return body[: max(1, len(body) // 2)]


class DroppedConnection(httpx.RemoteProtocolError):
    """Raised by the app to break the response off; see :class:`DroppedResponse`."""

    def __init__(self) -> None:
        super().__init__("peer closed connection without sending complete message body (simulated drop)")


class DroppedResponse:
    """A response that dies after its headers and part of its body.

    Headers promise the full ``Content-Length``; part of the body goes out; then the app raises
    :class:`DroppedConnection`. What the client sees depends on the transport, but it is always a transport
    error, never a response:

    * through uvicorn, the server logs the exception and closes the socket, so httpx reads fewer bytes than
      promised and raises ``httpx.RemoteProtocolError``;
    * through ``httpx.ASGITransport`` (or Starlette's ``TestClient``) the app's exception propagates to the
      caller, and it *is* an ``httpx.RemoteProtocolError``.
    """

    def __init__(self, body: bytes, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        self._body = body
        self._status = status
        self._headers = [(name, value) for name, value in headers if name.lower() != b"content-length"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        promised = str(len(self._body) + 1).encode()
        await send(
            {
                "type": "http.response.start",
                "status": self._status,
                "headers": [*self._headers, (b"content-length", promised)],
            }
        )
        await send(
            {"type": "http.response.body", "body": self._body[: len(self._body) // 2], "more_body": True}
        )
        raise DroppedConnection()
