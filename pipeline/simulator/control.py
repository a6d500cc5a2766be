"""``/_simulator/*``: steer the simulator from tests and demos (not part of the Atlassian API).

Served at the root (``/_simulator/...``, as the issue describes it) and under the API root
(``/admin/_simulator/...``, so a client that only knows ``ATLASSIAN_API_BASE_URL`` reaches it too). Both need
the Bearer key; neither is rate limited nor faulted.
"""

from __future__ import annotations

from dataclasses import asdict, fields

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.simulator.errors import Codes
from pipeline.simulator.faults import check_fault_config
from pipeline.simulator.model import FaultConfig
from pipeline.simulator.params import json_body
from pipeline.simulator.serialize import iso_seconds
from pipeline.simulator.state import json_response, occurrence, state_of

_TRUTH_THRESHOLDS = ("inactive_after_days", "new_user_grace_days", "invite_grace_days")
_FAULT_FIELDS = {field.name for field in fields(FaultConfig)}


def _codes(request: Request) -> Codes:
    return Codes(v2=False, occurrence=occurrence(request))


def _non_negative_int(request: Request, name: str, raw: str) -> int:
    if not raw.isdigit():
        raise _codes(request).bad_request(f"{name} must be a whole number of days (got {raw!r}).")
    return int(raw)


async def truth(request: Request) -> Response:
    world = state_of(request).world
    params = request.query_params
    org_id = params.get("org_id") or None
    if org_id is not None and org_id not in world.orgs:
        raise _codes(request).org_not_found(org_id)
    thresholds = {
        name: _non_negative_int(request, name, params[name]) for name in _TRUTH_THRESHOLDS if name in params
    }
    return json_response(world.truth(org_id=org_id, **thresholds))


async def advance(request: Request) -> Response:
    """Move the simulated clock by ``days`` whole days; answers the new ``now``."""
    world = state_of(request).world
    world.advance(_non_negative_int(request, "days", request.query_params.get("days", "")))
    return json_response({"now": iso_seconds(world.now)})


async def get_faults(request: Request) -> Response:
    return json_response(asdict(state_of(request).faults.config))


async def set_faults(request: Request) -> Response:
    """Replace the whole fault config (fields left out take their defaults); re-seeds and re-arms."""
    codes = _codes(request)
    body = await json_body(request, codes)
    unknown = sorted(set(body) - _FAULT_FIELDS)
    if unknown:
        raise codes.bad_request(f"Unknown fault field(s): {', '.join(unknown)}.")
    sim = state_of(request)
    body.setdefault("seed", sim.world.config.seed)
    try:
        config = FaultConfig(**body)
        check_fault_config(config)
    except (TypeError, ValueError) as error:
        raise codes.bad_request(str(error)) from None
    sim.faults.replace(config)
    return json_response(asdict(config))


ROUTES = [
    Route("/truth", truth),
    Route("/advance", advance, methods=["POST"]),
    Route("/faults", get_faults, methods=["GET"]),
    Route("/faults", set_faults, methods=["POST"]),
]
