"""v2 endpoints: directories, users (GET and search), groups, role assignments and workspaces.

Directory endpoints page with opaque cursors in ``links.next`` (null on the last page) and speak the
``ADMIN-UAM-*`` error family. A cursor carries the whole query of the first page, so a request with a cursor
ignores every other parameter, as documented.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.config.shared import ALL_DIRECTORIES
from pipeline.simulator import serialize
from pipeline.simulator.errors import Codes
from pipeline.simulator.model import Group, Org, User
from pipeline.simulator.pagination import InvalidCursor, SortedIndex, decode_cursor, encode_cursor
from pipeline.simulator.params import (
    body_list,
    body_str,
    check_enum,
    json_body,
    parse_bool,
    parse_limit,
    query_list,
)
from pipeline.simulator.state import api_base, codes_for, find_org, json_response, state_of
from pipeline.simulator.world import World

DEFAULT_LIMIT = 50  # documented for search; assumed for GET
MAX_LIMIT = 100

STATUSES = ("active", "suspended", "not_invited", "deactivated", "for_deletion")
ACCOUNT_STATUSES = ("active", "inactive", "closed")
MEMBERSHIP_STATUSES = ("active", "suspended", "no_membership")
CLAIM_STATUSES = ("managed", "unmanaged")
ROLE_IDS = (
    "atlassian/user",
    "atlassian/admin",
    "atlassian/guest",
    "atlassian/customer",
    "atlassian/user-access-admin",
    "atlassian/contributor",
    "atlassian/basic",
    "atlassian/stakeholder",
    "atlassian/org-admin",
    "atlassian/site-admin",
    "atlassian/ai-access",
)
USER_EXPANDS = ("platformRoles", "counts.resources", "productAccess", "groups")
GROUP_EXPANDS = ("counts.resources", "counts.users")


# ---- shared -------------------------------------------------------------------------------------------


def _page_state(
    cursor: str | None, kind: str, codes: Codes, first_query: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """Where a listing stands: the cursor's state (it carries the first page's query, so the other
    parameters of a request with a cursor are ignored), or the first page of ``first_query()``."""
    if not cursor:
        return {"query": first_query(), "after": None}
    try:
        return decode_cursor(cursor, kind)
    except InvalidCursor:
        raise codes.invalid_cursor() from None


ListingPage = Callable[[Request, Org, str, str, dict[str, Any]], Response]


async def _directory_listing(
    request: Request, kind: str, page: ListingPage, first_query: Callable[[Any, Codes], dict[str, Any]]
) -> Response:
    """A page of a directory's users or groups. A GET takes its cursor and ``first_query(request, codes)``
    from the query string, a POST search from its JSON body (``first_query(body, codes)``)."""
    org = find_org(request)
    directory_id = _directory(request, org)
    codes = codes_for(request)
    if request.method == "POST":
        body = await json_body(request, codes)
        cursor, source = body_str(body, "cursor", codes), body
    else:
        cursor, source = request.query_params.get("cursor"), request
    state = _page_state(cursor, kind, codes, lambda: first_query(source, codes))
    return page(request, org, directory_id, kind, state)


def _directory(request: Request, org: Org) -> str:
    directory_id = request.path_params["directoryId"]
    if directory_id != ALL_DIRECTORIES and all(d.id != directory_id for d in org.directories):
        raise codes_for(request).not_found(f"The directory {directory_id}")
    return directory_id


def user_directories(org: Org, user: User) -> list[str]:
    """A user belongs to the org's (single, centralized) directory unless they have no membership at all.

    The model has no per-user directory; with several directories every member is placed in the first.
    """
    if user.membership_status == "no_membership" or not org.directories:
        return []
    return [org.directories[0].id]


def _sort_by(raw: Any, allowed_field: str, codes: Codes) -> dict[str, str] | None:
    """``sortBy: [{field, direction}]`` with a single field."""
    if raw is None:
        return None
    if not isinstance(raw, list) or len(raw) != 1 or not isinstance(raw[0], dict):
        raise codes.bad_request("sortBy must be an array with exactly one {field, direction} object.")
    field, direction = raw[0].get("field"), raw[0].get("direction", "asc")
    if field != allowed_field or direction not in ("asc", "desc"):
        raise codes.bad_request(f"sortBy supports field {allowed_field} with direction asc or desc.")
    return {"field": field, "direction": direction}


def _cursor_page(
    index: SortedIndex[Any],
    state: dict[str, Any],
    kind: str,
    where: Callable[[Any], bool] | None = None,
    descending: bool = False,
) -> tuple[list[Any], dict[str, str | None]]:
    """One page and its ``links``: ``self`` re-reads this page, ``next`` is None on the last one."""
    page, more = index.page(state["after"], state["query"]["limit"], descending=descending, where=where)
    next_cursor = encode_cursor(kind, {**state, "after": index.key_of(page[-1])}) if more else None
    return page, {"self": encode_cursor(kind, state), "next": next_cursor}


# ---- directories --------------------------------------------------------------------------------------


async def list_directories(request: Request) -> Response:
    org = find_org(request)
    codes = codes_for(request)
    params = request.query_params
    state = _page_state(
        params.get("cursor"),
        "directories",
        codes,
        lambda: {
            "accountId": params.get("accountId") or None,
            "directoryIds": query_list(params, "directoryIds"),
            "searchTerm": (params.get("searchTerm") or "").lower() or None,
            "limit": parse_limit(params.get("limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT, codes=codes),
        },
    )
    query = state["query"]
    member_of: list[str] | None = None
    if query["accountId"]:
        user = org.users.get(query["accountId"])
        member_of = user_directories(org, user) if user else []

    def where(directory: Any) -> bool:
        return (
            (not query["directoryIds"] or directory.id in query["directoryIds"])
            and (member_of is None or directory.id in member_of)
            and (not query["searchTerm"] or query["searchTerm"] in directory.name.lower())
        )

    index = SortedIndex(org.directories, lambda directory: (directory.name, directory.id))
    page, links = _cursor_page(index, state, "directories", where)
    return json_response({"data": [serialize.directory_model(d) for d in page], "links": links})


# ---- users --------------------------------------------------------------------------------------------


def _claim_status(raw: Any, codes: Codes) -> str | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise codes.bad_request("claimStatus must be a string.")
    return check_enum([raw], CLAIM_STATUSES, "claimStatus", codes)[0]


def _user_query_from_params(request: Request, codes: Codes) -> dict[str, Any]:
    params = request.query_params
    return {
        "accountIds": query_list(params, "accountIds"),
        "directoryIds": query_list(params, "directoryIds"),
        "resourceIds": query_list(params, "resourceIds"),
        "groupIds": query_list(params, "groupIds"),
        "mfaEnabled": parse_bool(params.get("mfaEnabled"), "mfaEnabled", codes),
        "claimStatus": _claim_status(params.get("claimStatus"), codes),
        "status": check_enum(query_list(params, "status"), STATUSES, "status", codes),
        "accountStatus": check_enum(
            query_list(params, "accountStatus"), ACCOUNT_STATUSES, "accountStatus", codes
        ),
        "membershipStatus": check_enum(
            query_list(params, "membershipStatus"), MEMBERSHIP_STATUSES, "membershipStatus", codes
        ),
        "roleIds": check_enum(query_list(params, "roleIds"), ROLE_IDS, "roleIds", codes),
        "emailDomains": [domain.lower() for domain in query_list(params, "emailDomains")],
        "searchTerm": params.get("searchTerm") or None,
        "emails": [],
        "expand": [],
        "sortBy": None,
        "limit": parse_limit(params.get("limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT, codes=codes),
    }


def _user_query_from_body(body: dict[str, Any], codes: Codes) -> dict[str, Any]:
    mfa = body.get("mfaEnabled")
    if mfa is not None and not isinstance(mfa, bool):
        raise codes.bad_request("mfaEnabled must be true or false.")
    search_term = body_str(body, "searchTerm", codes)
    emails = body_list(body, "emails", codes)
    if search_term and emails:
        raise codes.bad_request("searchTerm and emails cannot be used together.")
    return {
        "accountIds": body_list(body, "accountIds", codes),
        "directoryIds": body_list(body, "directoryIds", codes),
        "resourceIds": body_list(body, "resourceIds", codes),
        "groupIds": body_list(body, "groupIds", codes),
        "mfaEnabled": mfa,
        "claimStatus": _claim_status(body.get("claimStatus"), codes),
        "status": check_enum(body_list(body, "status", codes), STATUSES, "status", codes),
        "accountStatus": check_enum(
            body_list(body, "accountStatus", codes), ACCOUNT_STATUSES, "accountStatus", codes
        ),
        "membershipStatus": check_enum(
            body_list(body, "membershipStatus", codes), MEMBERSHIP_STATUSES, "membershipStatus", codes
        ),
        "roleIds": check_enum(body_list(body, "roleIds", codes), ROLE_IDS, "roleIds", codes),
        "emailDomains": [domain.lower() for domain in body_list(body, "emailDomains", codes)],
        "searchTerm": search_term,
        "emails": [email.lower() for email in emails],
        "expand": check_enum(body_list(body, "expand", codes), USER_EXPANDS, "expand", codes),
        "sortBy": _sort_by(body.get("sortBy"), "nick_name", codes),
        "limit": parse_limit(body.get("limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT, codes=codes),
    }


def _keys(world: World) -> str:
    """Which product keys the v2 endpoints speak (``--product-keys``)."""
    return world.config.product_keys


def _user_roles(world: World, org: Org, user: User) -> set[str]:
    grants = serialize.user_grants(user, world.user_groups(org.id, user), _keys(world))
    return {role for roles in grants.values() for role in roles} | set(user.platform_roles)


def _user_filter(world: World, org: Org, directory_id: str, query: dict[str, Any]) -> Callable[[User], bool]:
    """One predicate for every filter present; the costly ones (groups, roles) only when asked for."""
    checks: list[Callable[[User], bool]] = []
    directory_ids = set(query["directoryIds"])
    if directory_id != ALL_DIRECTORIES:
        # The path's directory narrows any directoryIds filter (an empty intersection matches nobody).
        directory_ids = directory_ids & {directory_id} if directory_ids else {directory_id}
    if directory_id != ALL_DIRECTORIES or directory_ids:
        checks.append(lambda user: bool(directory_ids & set(user_directories(org, user))))
    if query["accountIds"]:
        account_ids = set(query["accountIds"])
        checks.append(lambda user: user.account_id in account_ids)
    for name, attribute in (
        ("status", "status"),
        ("accountStatus", "account_status"),
        ("membershipStatus", "membership_status"),
    ):
        if query[name]:
            wanted = set(query[name])
            checks.append(lambda user, attribute=attribute, wanted=wanted: getattr(user, attribute) in wanted)
    if query["claimStatus"]:
        checks.append(lambda user: user.claim_status == query["claimStatus"])
    if query["mfaEnabled"] is not None:
        checks.append(lambda user: user.mfa_enabled == query["mfaEnabled"])
    if query["emailDomains"]:
        domains = set(query["emailDomains"])
        checks.append(lambda user: bool(user.email) and user.email.rsplit("@", 1)[-1].lower() in domains)
    if query["emails"]:
        emails = set(query["emails"])
        checks.append(lambda user: bool(user.email) and user.email.lower() in emails)
    if query["searchTerm"]:
        term = query["searchTerm"].lower()
        checks.append(
            lambda user: any(
                term in (value or "").lower() for value in (user.name, user.nickname, user.email)
            )
        )
    if query["groupIds"]:
        members = {
            account_id
            for group_id in query["groupIds"]
            if group_id in org.groups
            for account_id in org.groups[group_id].members
        }
        checks.append(lambda user: user.account_id in members)
    if query["resourceIds"]:
        resources = set(query["resourceIds"])
        checks.append(
            lambda user: bool(
                resources & set(serialize.user_grants(user, world.user_groups(org.id, user), _keys(world)))
            )
        )
    if query["roleIds"]:
        roles = set(query["roleIds"])
        checks.append(lambda user: bool(roles & _user_roles(world, org, user)))
    return lambda user: all(check(user) for check in checks)


def _user_json(world: World, org: Org, user: User, expand: list[str], self_url: str) -> dict[str, Any]:
    item = serialize.v2_user_fields(user)
    if "platformRoles" in expand:
        item["platformRoles"] = list(user.platform_roles)
    seats = world.product_access(org.id, user) if "productAccess" in expand else []
    if "counts.resources" in expand:
        # "The number of resources the user has roles assigned to" (v2 reference, UserCounts): the distinct
        # resource ids of the user's role assignments, direct or through a group (a Jira admin role on the
        # `jira-admin` resource is one more).
        grants = serialize.user_grants(user, world.user_groups(org.id, user), _keys(world))
        item["counts"] = {"resources": len(grants)}
    if "productAccess" in expand:
        visible = {(key, cloud): moment for key, cloud, moment in world.visible_last_active(org.id, user)}
        item["productAccess"] = serialize.product_access_items(
            seats,
            visible,
            _keys(world),
            used_only=world.config.product_access == "used",
            renames=world.config.activity_key_renames,
        )
    if "groups" in expand:
        groups = sorted(world.user_groups(org.id, user), key=lambda group: (group.name, group.id))
        item["groups"] = [serialize.group_ref(group) for group in groups]
    item["links"] = {"self": self_url}
    return item


def _users_page(request: Request, org: Org, directory_id: str, kind: str, state: dict[str, Any]) -> Response:
    sim = state_of(request)
    world = sim.world
    query = state["query"]
    by_nickname = query["sortBy"] is not None
    index = sim.index(
        "v2-users-nickname" if by_nickname else "v2-users",
        org.id,
        org.users.values,
        (lambda user: (user.nickname.lower(), user.account_id))
        if by_nickname
        else (lambda user: (user.account_id,)),
    )
    descending = by_nickname and query["sortBy"]["direction"] == "desc"
    where = _user_filter(world, org, directory_id, query)
    page, links = _cursor_page(index, state, kind, where, descending)
    base = f"{api_base(request)}/v2/orgs/{org.id}/directories/{directory_id}/users"
    data = [_user_json(world, org, user, query["expand"], f"{base}/{user.account_id}") for user in page]
    return json_response({"data": data, "links": links})


async def list_users(request: Request) -> Response:
    return await _directory_listing(request, "v2-users", _users_page, _user_query_from_params)


async def search_users(request: Request) -> Response:
    return await _directory_listing(request, "v2-users-search", _users_page, _user_query_from_body)


async def count_users(request: Request) -> Response:
    """``GET .../users/count``: the users GET would list with the same filters, as ``{"count": N}``."""
    org = find_org(request)
    directory_id = _directory(request, org)
    where = _user_filter(
        state_of(request).world, org, directory_id, _user_query_from_params(request, codes_for(request))
    )
    return json_response({"count": sum(1 for user in org.users.values() if where(user))})


def _find_user(request: Request, org: Org) -> User:
    account_id = request.path_params["accountId"]
    user = org.users.get(account_id)
    if user is None:
        raise codes_for(request).user_not_found(account_id)
    return user


async def get_user(request: Request) -> Response:
    org = find_org(request)
    _directory(request, org)
    return json_response({"data": serialize.v2_user_fields(_find_user(request, org))})


def _assignment_query(request: Request, codes: Codes, *, for_user: bool) -> dict[str, Any]:
    params = request.query_params
    query: dict[str, Any] = {
        "limit": parse_limit(params.get("limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT, codes=codes)
    }
    if for_user:
        query |= {
            "directoryIds": query_list(params, "directoryIds"),
            "resourceOwners": query_list(params, "resourceOwners"),
            "resourceIds": query_list(params, "resourceIds"),
            "roleIds": query_list(params, "roleIds"),
        }
    return query


def _assignments_page(request: Request, kind: str, items: list[dict[str, Any]], for_user: bool) -> Response:
    codes = codes_for(request)
    state = _page_state(
        request.query_params.get("cursor"),
        kind,
        codes,
        lambda: _assignment_query(request, codes, for_user=for_user),
    )
    query = state["query"]

    def where(item: dict[str, Any]) -> bool:
        roles = {assignment["role"] for assignment in item["roleAssignments"]}
        return (
            (not query.get("resourceIds") or item["resourceId"] in query["resourceIds"])
            and (not query.get("resourceOwners") or item["resourceOwner"] in query["resourceOwners"])
            and (not query.get("roleIds") or bool(roles & set(query["roleIds"])))
            and (not query.get("directoryIds") or item.get("directoryId") in query["directoryIds"])
        )

    index = SortedIndex(items, lambda item: (item["resourceId"],))
    page, links = _cursor_page(index, state, kind, where)
    return json_response({"data": page, "links": links})


async def user_role_assignments(request: Request) -> Response:
    org = find_org(request)
    _directory(request, org)
    user = _find_user(request, org)
    world = state_of(request).world
    directories = user_directories(org, user)
    items = serialize.role_assignments(
        serialize.user_grants(user, world.user_groups(org.id, user), _keys(world))
    )
    for item in items:
        item["directoryId"] = directories[0] if directories else None
        item["userDirectoryStatus"] = user.membership_status if directories else None
    return _assignments_page(request, "user-roles", items, for_user=True)


# ---- groups -------------------------------------------------------------------------------------------


def _group_query_from_params(request: Request, codes: Codes) -> dict[str, Any]:
    params = request.query_params
    return {
        "accountIds": query_list(params, "accountIds"),
        "directoryIds": query_list(params, "directoryIds"),
        "groupIds": query_list(params, "groupIds"),
        "groupNames": [],
        "resourceIds": query_list(params, "resourceIds"),
        "resourceOwners": query_list(params, "resourceOwners"),
        "roleIds": query_list(params, "roleIds"),
        "searchTerm": params.get("searchTerm") or None,
        "sortBy": None,
        "expand": check_enum(query_list(params, "expand"), GROUP_EXPANDS, "expand", codes),
        "limit": parse_limit(params.get("limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT, codes=codes),
    }


def _group_query_from_body(body: dict[str, Any], codes: Codes) -> dict[str, Any]:
    return {
        "expand": check_enum(body_list(body, "expand", codes), GROUP_EXPANDS, "expand", codes),
        "accountIds": body_list(body, "accountIds", codes),
        "directoryIds": body_list(body, "directoryIds", codes),
        "groupIds": body_list(body, "groupIds", codes),
        "groupNames": body_list(body, "groupNames", codes),
        "resourceIds": body_list(body, "resourceIds", codes),
        "resourceOwners": body_list(body, "resourceOwners", codes),
        "roleIds": body_list(body, "roleIds", codes),
        "searchTerm": body_str(body, "searchTerm", codes),
        "sortBy": _sort_by(body.get("sortBy"), "name", codes),
        "limit": parse_limit(body.get("limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT, codes=codes),
    }


def _group_filter(directory_id: str, query: dict[str, Any], keys: str) -> Callable[[Group], bool]:
    directory_ids = set(query["directoryIds"]) | (
        {directory_id} if directory_id != ALL_DIRECTORIES else set()
    )

    def where(group: Group) -> bool:
        resources = set(serialize.group_grants(group, keys))
        owners = {resource.removeprefix("ari:cloud:").split(":", 1)[0] for resource in resources}
        return (
            (not directory_ids or group.directory_id in directory_ids)
            and (not query["accountIds"] or bool(group.members & set(query["accountIds"])))
            and (not query["groupIds"] or group.id in query["groupIds"])
            and (not query["groupNames"] or group.name in query["groupNames"])
            and (not query["resourceIds"] or bool(resources & set(query["resourceIds"])))
            and (not query["resourceOwners"] or bool(owners & set(query["resourceOwners"])))
            and (not query["roleIds"] or any(role in query["roleIds"] for _, _, role in group.grants))
            and (not query["searchTerm"] or query["searchTerm"].lower() in group.name.lower())
        )

    return where


def _group_json(request: Request, org: Org, group: Group, expand: list[str] | None = None) -> dict[str, Any]:
    """``expand`` None: the single-group endpoint, which has no expand parameter and sends counts."""
    resources = {(product, cloud_id) for product, cloud_id, _ in group.grants}
    self_url = f"{api_base(request)}/v2/orgs/{org.id}/directories/{group.directory_id}/groups/{group.id}"
    members = sum(1 for account_id in group.members if account_id in org.users)
    counts = expand is None or bool(set(expand) & set(GROUP_EXPANDS))
    return serialize.group_model(group, members, len(resources), self_url, counts=counts)


def _groups_page(request: Request, org: Org, directory_id: str, kind: str, state: dict[str, Any]) -> Response:
    query = state["query"]
    index = state_of(request).index(
        "groups", org.id, org.groups.values, lambda group: (group.name.lower(), group.id)
    )
    descending = query["sortBy"] is not None and query["sortBy"]["direction"] == "desc"
    keys = _keys(state_of(request).world)
    page, links = _cursor_page(index, state, kind, _group_filter(directory_id, query, keys), descending)
    expand = query.get("expand", [])
    return json_response(
        {"data": [_group_json(request, org, group, expand) for group in page], "links": links}
    )


async def list_groups(request: Request) -> Response:
    return await _directory_listing(request, "groups", _groups_page, _group_query_from_params)


async def search_groups(request: Request) -> Response:
    return await _directory_listing(request, "groups-search", _groups_page, _group_query_from_body)


def _find_group(request: Request, org: Org) -> Group:
    group_id = request.path_params["groupId"]
    group = org.groups.get(group_id)
    if group is None:
        raise codes_for(request).group_not_found(group_id)
    return group


async def get_group(request: Request) -> Response:
    org = find_org(request)
    _directory(request, org)
    return json_response({"data": _group_json(request, org, _find_group(request, org))})


async def group_role_assignments(request: Request) -> Response:
    org = find_org(request)
    _directory(request, org)
    keys = _keys(state_of(request).world)
    items = serialize.role_assignments(serialize.group_grants(_find_group(request, org), keys))
    return _assignments_page(request, "group-roles", items, for_user=False)


ROUTES = [
    Route("/v2/orgs/{orgId}/directories", list_directories),
    Route("/v2/orgs/{orgId}/directories/{directoryId}/users", list_users),
    Route("/v2/orgs/{orgId}/directories/{directoryId}/users/search", search_users, methods=["POST"]),
    # Before `users/{accountId}`, which would otherwise take "count" for an account id.
    Route("/v2/orgs/{orgId}/directories/{directoryId}/users/count", count_users),
    Route("/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}", get_user),
    Route(
        "/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}/role-assignments", user_role_assignments
    ),
    Route("/v2/orgs/{orgId}/directories/{directoryId}/groups", list_groups),
    Route("/v2/orgs/{orgId}/directories/{directoryId}/groups/search", search_groups, methods=["POST"]),
    Route("/v2/orgs/{orgId}/directories/{directoryId}/groups/{groupId}", get_group),
    Route(
        "/v2/orgs/{orgId}/directories/{directoryId}/groups/{groupId}/role-assignments", group_role_assignments
    ),
]
