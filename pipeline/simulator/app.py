"""The simulator's ASGI app: ``create_app(world)`` serves the Atlassian Admin API for that world.

Layout: the API under ``/admin`` (``/admin/v1/...``, ``/admin/v2/...``, the real base URL's path), the
simulator's own controls under ``/_simulator`` and ``/admin/_simulator``. The :class:`Gateway` in front adds
the clock, auth, rate limits and faults; handlers only turn the world into JSON and raise
:class:`~pipeline.simulator.errors.ApiError` for error answers.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount

from pipeline.simulator import api_v1, api_v2, api_workspaces, control
from pipeline.simulator.errors import ApiError
from pipeline.simulator.gateway import Gateway
from pipeline.simulator.state import API_PREFIX, SimulatorState, json_response
from pipeline.simulator.world import World


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return json_response(exc.body, exc.status)


def create_app(world: World) -> Starlette:
    state = SimulatorState(world)
    app = Starlette(
        routes=[
            Mount("/_simulator", routes=control.ROUTES),
            Mount(f"{API_PREFIX}/_simulator", routes=control.ROUTES),
            Mount(API_PREFIX, routes=api_v1.ROUTES + api_v2.ROUTES + api_workspaces.ROUTES),
        ],
        middleware=[Middleware(Gateway, state=state)],
        exception_handlers={ApiError: _api_error},
    )
    app.state.simulator = state
    return app
