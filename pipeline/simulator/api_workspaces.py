"""``POST /v2/orgs/{orgId}/workspaces``: one workspace per product instance (product on a site).

Body ``SearchWorkspacesRequestV2``: ``{query, limit (1..1000, default 20), sort, cursor}``; a cursor must come
alone. Paging is by position (``meta.startIndex``/``endIndex`` describe it), with cursors in ``links``.
Errors are the ``ADMIN-*`` family this endpoint shares with v1.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.simulator import serialize
from pipeline.simulator.errors import Codes
from pipeline.simulator.model import Workspace
from pipeline.simulator.pagination import InvalidCursor, decode_cursor, encode_cursor
from pipeline.simulator.params import json_body, parse_limit
from pipeline.simulator.state import api_base, codes_for, find_org, json_response, state_of

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000

# Field names a query or sort may use, and how to read them from a workspace.
_FIELDS = {
    "id": lambda ws: ws.id,
    "attributes.name": lambda ws: ws.site.name,
    "attributes.type": lambda ws: ws.product_key,
    "attributes.typeKey": lambda ws: ws.product_key,
    "attributes.status": lambda ws: "online",
    "attributes.hostUrl": lambda ws: ws.site.host_url,
    "attributes.createdAt": lambda ws: serialize.iso_seconds(ws.created_at),
}


def _field(name: Any, codes: Codes) -> Any:
    if name not in _FIELDS:
        raise codes.bad_request(f"Unsupported field {name!r}; use one of {', '.join(_FIELDS)}.")
    return _FIELDS[name]


def _matches(workspace: Workspace, query: Any, codes: Codes) -> bool:
    """Evaluate a ``QueryVariants`` tree: ``and``, ``field``, ``searchWorkspaces``, ``features``/``policies``.

    The simulated workspaces have no features or policies, so filtering on them matches nothing.
    """
    if not isinstance(query, dict) or len(query) != 1:
        raise codes.bad_request("Each query node must be an object with exactly one operator.")
    ((operator, operand),) = query.items()
    if operator == "and" and isinstance(operand, list):
        return all(_matches(workspace, node, codes) for node in operand)
    if operator == "field" and isinstance(operand, dict) and isinstance(operand.get("values"), list):
        return _field(operand.get("name"), codes)(workspace) in operand["values"]
    if operator == "searchWorkspaces" and isinstance(operand, str):
        term = operand.lower()
        return term in workspace.site.name.lower() or term in workspace.site.host_url.lower()
    if operator in ("features", "policies") and isinstance(operand, list):
        return False
    raise codes.bad_request(f"Unsupported query operator {operator!r}.")


def _request_state(body: dict[str, Any], codes: Codes) -> dict[str, Any]:
    if "cursor" in body:
        if len(body) != 1:
            raise codes.bad_request(
                "When a cursor is provided in the request body, no other properties may be present."
            )
        if not isinstance(body["cursor"], str):
            raise codes.invalid_cursor()
        try:
            return decode_cursor(body["cursor"], "workspaces")
        except InvalidCursor:
            raise codes.invalid_cursor() from None
    sort = body.get("sort") or []
    if not isinstance(sort, list) or not all(isinstance(item, dict) for item in sort):
        raise codes.bad_request("sort must be an array of {field, order} objects.")
    for item in sort:
        _field(item.get("field"), codes)
        if item.get("order", "asc") not in ("asc", "desc"):
            raise codes.bad_request("sort order must be asc or desc.")
    return {
        "query": body.get("query"),
        "sort": [{"field": item["field"], "order": item.get("order", "asc")} for item in sort],
        "limit": parse_limit(body.get("limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT, codes=codes),
        "offset": 0,
    }


def _ordered(workspaces: list[Workspace], sort: list[dict[str, str]], codes: Codes) -> list[Workspace]:
    ordered = sorted(workspaces, key=lambda ws: (ws.site.name, ws.product_key, ws.id))
    # Stable sorts applied last-key-first give a multi-key sort with per-key direction.
    for item in reversed(sort):
        ordered.sort(key=_field(item["field"], codes), reverse=item["order"] == "desc")
    return ordered


async def search_workspaces(request: Request) -> Response:
    org = find_org(request)
    codes = codes_for(request)
    state = _request_state(await json_body(request, codes), codes)
    selected = [ws for ws in org.workspaces if state["query"] is None or _matches(ws, state["query"], codes)]
    ordered = _ordered(selected, state["sort"], codes)
    offset, limit = state["offset"], state["limit"]
    page = ordered[offset : offset + limit]
    usage = state_of(request).world.seat_usage(org.id)
    base = api_base(request)

    def cursor(at: int) -> str:
        return encode_cursor("workspaces", {**state, "offset": at})

    links: dict[str, str] = {"self": cursor(offset)}
    if offset > 0:
        links["prev"] = cursor(max(0, offset - limit))
    if offset + limit < len(ordered):
        links["next"] = cursor(offset + limit)
    return json_response(
        {
            "data": [
                serialize.workspace_model(
                    ws, usage.get(ws.seat, 0), base, org.id, state_of(request).world.config.product_keys
                )
                for ws in page
            ],
            "links": links,
            "meta": {
                "pageSize": limit,
                "startIndex": offset if page else None,
                "endIndex": offset + len(page) - 1 if page else None,
                "total": len(ordered),
            },
        }
    )


ROUTES = [Route("/v2/orgs/{orgId}/workspaces", search_workspaces, methods=["POST"])]
