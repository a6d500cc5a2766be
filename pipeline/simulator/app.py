"""The simulator's ASGI app: ``create_app(world)`` serves the Atlassian Admin API for that world.

Layout: the API under ``/admin`` (``/admin/v1/...``, ``/admin/v2/...``, the real base URL's path), the
simulator's own controls under ``/_simulator`` and ``/admin/_simulator``. The :class:`Gateway` in front adds
the clock, auth, rate limits and faults; handlers only turn the world into JSON and raise
:class:`~pipeline.simulator.errors.ApiError` for error answers.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount

from pipeline.simulator import api_v1, api_v2, api_workspaces, api_writes, control, errors
from pipeline.simulator.errors import ApiError
from pipeline.simulator.gateway import Gateway
from pipeline.simulator.state import API_PREFIX, SimulatorState, json_response
from pipeline.simulator.world import World


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return json_response(exc.body, exc.status)


async def _route_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = 405 if exc.status_code == 405 else 404
    error = errors.unknown_route(status, f"{request.method} {request.url.path}")
    return json_response(error.body, error.status)


def create_app(world: World) -> Starlette:
    state = SimulatorState(world)
    app = Starlette(
        routes=[
            Mount("/_simulator", routes=control.ROUTES),
            Mount(f"{API_PREFIX}/_simulator", routes=control.ROUTES),
            Mount(
                API_PREFIX, routes=api_v1.ROUTES + api_v2.ROUTES + api_writes.ROUTES + api_workspaces.ROUTES
            ),
        ],
        middleware=[Middleware(Gateway, state=state)],
        exception_handlers={ApiError: _api_error, 404: _route_error, 405: _route_error},
    )
    app.state.simulator = state
    return app
