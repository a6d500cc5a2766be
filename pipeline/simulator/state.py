"""What every handler shares: the world, the limiter, the fault injector and a few response helpers."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from pipeline.simulator.errors import Codes
from pipeline.simulator.faults import FaultInjector
from pipeline.simulator.model import Org
from pipeline.simulator.pagination import SortedIndex
from pipeline.simulator.ratelimit import RateLimiter
from pipeline.simulator.world import World

T = TypeVar("T")

API_PREFIX = "/admin"


class SimulatorState:
    def __init__(self, world: World) -> None:
        config = world.config
        self.world = world
        self.limiter = RateLimiter(config.rate_limits, config.rate_window_seconds)
        faults = config.faults
        if faults.seed is None:
            # Reproducible by default: derive the fault seed from the world seed.
            faults = replace(faults, seed=config.seed)
        self.faults = FaultInjector(faults)
        self._indexes: dict[tuple[str, ...], SortedIndex[Any]] = {}
        self._requests = itertools.count()
        self._indexes_at: tuple[datetime, int] | None = None

    def index(
        self, name: str, org_id: str, items: Callable[[], Iterable[T]], sort_key: Callable[[T], Sequence[Any]]
    ) -> SortedIndex[T]:
        """A sorted view of some world objects, rebuilt only when the world has changed.

        The world changes only in ``advance`` and the write endpoints, which both bump ``revision``, so
        (``now``, ``revision``) is a complete cache key; paging 100,000 users then costs a bisect per page
        instead of a sort.
        """
        version = (self.world.now, self.world.revision)
        if self._indexes_at != version:
            self._indexes.clear()
            self._indexes_at = version
        key = (name, org_id)
        if key not in self._indexes:
            self._indexes[key] = SortedIndex(items(), sort_key)
        return self._indexes[key]

    def new_trace_id(self) -> str:
        """The ``Atl-Traceid`` of the next API response: 32 hex digits, one sequence per seed."""
        number = next(self._requests)
        return hashlib.sha256(f"{self.world.config.seed}:trace:{number}".encode()).hexdigest()[:32]

    @staticmethod
    def trace_id(request: Request) -> str:
        """The ``Atl-Traceid`` the gateway gave this request."""
        return request.scope.get(TRACE_ID, "")


TRACE_ID = "seatwatch.trace_id"  # the ASGI scope key the gateway leaves the request's trace id under


def state_of(request: Request) -> SimulatorState:
    return request.app.state.simulator


def api_base(request: Request) -> str:
    """The API root as the client reached it, so links lead back to this simulator."""
    return f"{request.url.scheme}://{request.url.netloc}{API_PREFIX}"


def occurrence(request: Request) -> str:
    return f"{request.method} {request.url.path}?{request.url.query}"


def codes_for(request: Request) -> Codes:
    """v2 directory endpoints speak ``ADMIN-UAM-*``; v1 and workspaces ``ADMIN-*``."""
    v2_directory = request.url.path.startswith(f"{API_PREFIX}/v2/") and "/directories" in request.url.path
    return Codes(v2=v2_directory, occurrence=occurrence(request))


def find_org(request: Request) -> Org:
    org_id = request.path_params["orgId"]
    org = state_of(request).world.orgs.get(org_id)
    if org is None:
        raise codes_for(request).org_not_found(org_id)
    return org


def encode_json(body: Any) -> bytes:
    """Compact and in construction order: byte-identical for the same world."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(encode_json(body), status_code=status, media_type="application/json", headers=headers)
