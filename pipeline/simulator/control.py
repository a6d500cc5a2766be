"""``/_simulator/*``: steer the simulator from tests and demos (not part of the Atlassian API).

Served at the root (``/_simulator/...``, as the issue describes it) and under the API root
(``/admin/_simulator/...``, so a client that only knows ``ATLASSIAN_API_BASE_URL`` reaches it too). Both need
the Bearer key; neither is rate limited nor faulted.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.simulator.errors import Codes
from pipeline.simulator.faults import check_fault_config
from pipeline.simulator.model import FaultConfig, Org
from pipeline.simulator.params import json_body
from pipeline.simulator.serialize import iso_seconds
from pipeline.simulator.state import json_response, occurrence, state_of
from pipeline.simulator.world import World
from pipeline.simulator.writes import WriteRefused, product_names

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


def _org(request: Request, world: World, org_id: Any) -> Org:
    """The org named in the body, or the first one."""
    if org_id is None:
        return next(iter(world.orgs.values()))
    if not isinstance(org_id, str) or org_id not in world.orgs:
        raise _codes(request).org_not_found(str(org_id))
    return world.orgs[org_id]


async def add_activity(request: Request) -> Response:
    """Make a user use a product: ``{"accountId", "product", "cloudId"?, "at"?, "orgId"?}``.

    ``product`` is any of the product's keys (``jira``, ``jira-software``, ``confluence``, ...). ``at``
    (ISO 8601, at most ``now``) defaults to ``now - lag``, the newest moment the API already shows, so the
    use is visible at once; a later ``at`` stays hidden until the lag has passed, as on the real API.
    """
    codes = _codes(request)
    body = await json_body(request, codes)
    world = state_of(request).world
    org = _org(request, world, body.get("orgId"))
    account_id, product = body.get("accountId"), body.get("product")
    if not isinstance(account_id, str) or not isinstance(product, str):
        raise codes.bad_request('The body needs {"accountId": "...", "product": "..."}.')
    user = org.users.get(account_id)
    if user is None:
        raise codes.user_not_found(account_id)
    at = world.activity_complete_through
    if body.get("at") is not None:
        try:
            at = datetime.fromisoformat(str(body["at"]).replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            raise codes.bad_request(f"at must be an ISO 8601 date-time (got {body['at']!r}).") from None
        if at > world.now:
            raise codes.bad_request("at must not be later than the simulated now.")
    cloud_id = body.get("cloudId")
    try:
        seat = world.writes.record_activity(org, user, product, at.replace(microsecond=0), cloud_id)
    except WriteRefused as refusal:
        raise codes.bad_request(refusal.detail) from None
    return json_response(
        {"accountId": account_id, "product": seat[0], "cloudId": seat[1], "at": iso_seconds(at)}
    )


async def set_user_limit(request: Request) -> Response:
    """Set a product's user limit (its licensed seats): ``{"product", "cloudId"?, "limit", "orgId"?}``.

    A later ``advance`` buys seats again when more users hold access than the limit allows.
    """
    codes = _codes(request)
    body = await json_body(request, codes)
    world = state_of(request).world
    org = _org(request, world, body.get("orgId"))
    limit, product, cloud_id = body.get("limit"), body.get("product"), body.get("cloudId")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise codes.bad_request("limit must be a whole number >= 0.")
    matched = [
        workspace
        for workspace in org.workspaces
        if product in product_names(workspace.product_key) and cloud_id in (None, workspace.site.cloud_id)
    ]
    if not matched:
        raise codes.bad_request(f"No workspace of product {product!r} on {cloud_id or 'any site'}.")
    for workspace in matched:
        workspace.capacity = limit
    world.changed()
    return json_response(
        {"workspaces": [{"id": w.id, "cloudId": w.site.cloud_id, "limit": w.capacity} for w in matched]}
    )


async def write_log(request: Request) -> Response:
    """Every write the API answered, in order (refusals included): what a test counts."""
    records = state_of(request).world.writes.log
    return json_response({"data": [{**asdict(record), "at": iso_seconds(record.at)} for record in records]})


ROUTES = [
    Route("/truth", truth),
    Route("/advance", advance, methods=["POST"]),
    Route("/faults", get_faults, methods=["GET"]),
    Route("/faults", set_faults, methods=["POST"]),
    Route("/activity", add_activity, methods=["POST"]),
    Route("/user-limit", set_user_limit, methods=["POST"]),
    Route("/writes", write_log, methods=["GET"]),
]
