"""v1 endpoints: orgs, managed accounts, last-active dates, the audit log and its actions.

Paging styles differ per endpoint exactly as in the real API (see the pagination table in the API doc):
``/orgs`` and ``/users`` have a server-fixed page size and a full URL in ``links.next``; ``/events`` has
``meta.next`` (cursor) and ``links.next`` (URL); ``/events-stream`` returns a cursor even on its last page so
a client can keep polling.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.simulator import errors, serialize
from pipeline.simulator.model import AuditEvent, Org, User
from pipeline.simulator.pagination import InvalidCursor, SortedIndex, decode_cursor, encode_cursor
from pipeline.simulator.params import parse_limit, query_list
from pipeline.simulator.state import api_base, codes_for, find_org, json_response, occurrence, state_of

# Server-fixed page sizes: the v1 list endpoints take no limit (values unconfirmed).
ORGS_PAGE_SIZE = 20
USERS_PAGE_SIZE = 100
EVENTS_DEFAULT_LIMIT = 25
STREAM_DEFAULT_LIMIT = 200
# Largest page the audit endpoints serve; bigger requests are served this many (unconfirmed).
EVENTS_MAX_LIMIT = 1000


def _cursor_state(request: Request, kind: str) -> dict[str, Any] | None:
    token = request.query_params.get("cursor")
    if not token:
        return None
    try:
        return decode_cursor(token, kind)
    except InvalidCursor:
        raise codes_for(request).invalid_cursor() from None


def _url(request: Request, **query: str) -> str:
    """This endpoint's URL with ``query`` (used for ``links.self``/``links.next``)."""
    url = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"
    return f"{url}?{urlencode(query)}" if query else url


def _self_url(request: Request) -> str:
    return _url(request, **dict(request.query_params))


# ---- orgs ---------------------------------------------------------------------------------------------


async def list_orgs(request: Request) -> Response:
    world = state_of(request).world
    state = _cursor_state(request, "orgs") or {"after": None}
    index = state_of(request).index("orgs", "", world.orgs.values, lambda org: (org.index, org.id))
    page, more = index.page(state["after"], ORGS_PAGE_SIZE)
    base = api_base(request)
    links = {"self": _self_url(request)}
    if more:
        links["next"] = _url(request, cursor=encode_cursor("orgs", {"after": index.key_of(page[-1])}))
    return json_response({"data": [serialize.org_model(org, base) for org in page], "links": links})


async def get_org(request: Request) -> Response:
    return json_response({"data": serialize.org_model(find_org(request), api_base(request))})


async def list_domains(request: Request) -> Response:
    """The target of the org's ``relationships.domains`` link: one verified domain, one page."""
    org = find_org(request)
    body = {"data": [serialize.domain_model(org, api_base(request))], "links": {"self": _self_url(request)}}
    return json_response(body)


# ---- users --------------------------------------------------------------------------------------------


def _managed_users(org: Org) -> list[User]:
    return [user for user in org.users.values() if user.claim_status == "managed"]


async def list_users(request: Request) -> Response:
    """Managed accounts only (an org without a verified domain gets ``{"data": []}``), snake_case."""
    org = find_org(request)
    sim = state_of(request)
    world = sim.world
    state = _cursor_state(request, "v1-users") or {"after": None}
    index = sim.index("v1-users", org.id, lambda: _managed_users(org), lambda user: (user.account_id,))
    page, more = index.page(state["after"], USERS_PAGE_SIZE)
    hosts = {site.cloud_id: site.host_url for site in org.sites}
    data = []
    for user in page:
        visible = {(key, cloud): moment for key, cloud, moment in world.visible_last_active(org.id, user)}
        data.append(serialize.v1_user(user, world.product_access(org.id, user), visible, hosts))
    links = {"self": _self_url(request)}
    if more:
        links["next"] = _url(request, cursor=encode_cursor("v1-users", {"after": index.key_of(page[-1])}))
    return json_response({"data": data, "meta": {"total": len(index)}, "links": links})


async def last_active_dates(request: Request) -> Response:
    org = find_org(request)
    _cursor_state(request, "last-active")  # products fit one page: any cursor is one we never issued
    account_id = request.path_params["accountId"]
    world = state_of(request).world
    user = world.find_user(org.id, account_id)
    if user is None:
        raise codes_for(request).user_not_found(account_id)
    visible = world.visible_last_active(org.id, user)
    return json_response(serialize.last_active_dates(user, visible, world.config.activity_key_renames))


# ---- audit log ----------------------------------------------------------------------------------------


def _epoch_ms(request: Request, name: str, raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise errors.invalid_time(
            f"{name} must be a UNIX epoch time in milliseconds (got {raw!r}).", occurrence(request)
        ) from None


def _time_window(request: Request) -> tuple[int | None, int | None]:
    start = _epoch_ms(request, "from", request.query_params.get("from"))
    end = _epoch_ms(request, "to", request.query_params.get("to"))
    if start is not None and end is not None and start > end:
        raise errors.invalid_time("from must not be later than to.", occurrence(request))
    return start, end


def _ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def _in_window(event: AuditEvent, start: int | None, end: int | None) -> bool:
    at = _ms(event.time)
    return (start is None or at >= start) and (end is None or at <= end)


def _account_types(org: Org) -> dict[str, str]:
    users = {**org.removed_users, **org.users}
    return {account_id: user.account_type for account_id, user in users.items()}


def _event_json(request: Request, org: Org, events: list[AuditEvent], *, stream: bool) -> list[dict]:
    base = f"{api_base(request)}/v1/orgs/{org.id}/events"
    types = _account_types(org)
    return [serialize.event_model(event, types, f"{base}/{event.id}", stream=stream) for event in events]


def _matches_query(event: AuditEvent, query: dict[str, Any]) -> bool:
    if query.get("action") and event.action != query["action"]:
        return False
    if query.get("actor") and event.actor_id not in query["actor"]:
        return False
    if query.get("ip") and event.ip not in query["ip"]:
        return False
    if query.get("q"):
        term = query["q"].lower()
        fields = (event.message, event.action, event.actor_name, event.actor_email, event.subject_email)
        if not any(term in (value or "").lower() for value in fields):
            return False
    return _in_window(event, query.get("from"), query.get("to"))


def _events_limit(request: Request, default: int) -> int:
    """Both event listings cap ``limit`` at one maximum, clamping a larger one rather than refusing it."""
    return parse_limit(
        request.query_params.get("limit"),
        default=default,
        maximum=EVENTS_MAX_LIMIT,
        codes=codes_for(request),
        clamp=True,
    )


def _events_index(
    request: Request, org: Org, name: str, moment: Callable[[AuditEvent], datetime]
) -> SortedIndex[AuditEvent]:
    """The org's audit events in ``moment`` order (event or processing time), the event id breaking ties."""
    sim = state_of(request)
    return sim.index(
        name, org.id, lambda: sim.world.audit_events(org.id), lambda event: (_ms(moment(event)), event.id)
    )


async def list_events(request: Request) -> Response:
    """Newest first by event time; filters ``from``/``to``/``action``/``actor``/``ip``/``q``."""
    org = find_org(request)
    state = _cursor_state(request, "events")
    if state is None:
        start, end = _time_window(request)
        params = request.query_params
        query = {
            "from": start,
            "to": end,
            "action": params.get("action") or None,
            "actor": query_list(params, "actor"),
            "ip": query_list(params, "ip"),
            "q": params.get("q") or None,
            "limit": _events_limit(request, EVENTS_DEFAULT_LIMIT),
        }
        state = {"query": query, "after": None}
    query = state["query"]
    index = _events_index(request, org, "events-by-time", lambda event: event.time)
    page, more = index.page(
        state["after"], query["limit"], descending=True, where=lambda event: _matches_query(event, query)
    )
    body: dict[str, Any] = {"data": _event_json(request, org, page, stream=False), "meta": {}}
    links = {"self": _self_url(request)}
    if more:
        cursor = encode_cursor("events", {"query": query, "after": index.key_of(page[-1])})
        body["meta"]["next"] = cursor
        links["next"] = _url(request, cursor=cursor)
    body["meta"]["page_size"] = query["limit"]
    body["links"] = links
    return json_response(body)


async def get_event(request: Request) -> Response:
    org = find_org(request)
    event_id = request.path_params["eventId"]
    for event in state_of(request).world.audit_events(org.id):
        if event.id == event_id:
            return json_response({"data": _event_json(request, org, [event], stream=False)[0]})
    raise errors.event_not_found(event_id, occurrence(request))


async def events_stream(request: Request) -> Response:
    """Processing-time order; the cursor keeps the position, the window and the sort order."""
    org = find_org(request)
    state = _cursor_state(request, "events-stream")
    if state is None:
        start, end = _time_window(request)
        sort_order = request.query_params.get("sortOrder") or "asc"
        if sort_order not in ("asc", "desc"):
            raise codes_for(request).bad_request(f"sortOrder must be asc or desc (got {sort_order!r}).")
        limit = _events_limit(request, STREAM_DEFAULT_LIMIT)
        state = {"from": start, "to": end, "sortOrder": sort_order, "limit": limit, "after": None}
    index = _events_index(request, org, "events-stream", lambda event: event.processed_at)
    page, _ = index.page(
        state["after"],
        state["limit"],
        descending=state["sortOrder"] == "desc",
        where=lambda event: _in_window(event, state["from"], state["to"]),
    )
    # Always a next cursor: at the end it marks the current position, and polling it later yields what
    # the audit log has processed since.
    after = index.key_of(page[-1]) if page else state["after"]
    cursor = encode_cursor("events-stream", {**state, "after": after})
    return json_response(
        {
            "data": _event_json(request, org, page, stream=True),
            "meta": {"next": cursor, "page_size": state["limit"]},
            "links": {"self": _self_url(request), "next": _url(request, cursor=cursor)},
        }
    )


async def event_actions(request: Request) -> Response:
    find_org(request)
    actions = state_of(request).world.event_actions()
    return json_response({"data": [serialize.event_action_model(action) for action in actions]})


ROUTES = [
    Route("/v1/orgs", list_orgs),
    Route("/v1/orgs/{orgId}", get_org),
    Route("/v1/orgs/{orgId}/users", list_users),
    Route("/v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates", last_active_dates),
    Route("/v1/orgs/{orgId}/domains", list_domains),
    Route("/v1/orgs/{orgId}/events", list_events),
    Route("/v1/orgs/{orgId}/events/{eventId}", get_event),
    Route("/v1/orgs/{orgId}/events-stream", events_stream),
    Route("/v1/orgs/{orgId}/event-actions", event_actions),
]
