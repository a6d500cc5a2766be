"""The v2 write endpoints: group memberships, suspend and restore (what they change: ``writes.py``).

Every answer is logged in ``World.writes.log`` (refusals too), so a test can count exactly what a client
changed. Success is ``204 No Content`` (assumed: the v2 reference documents no response body; jira.js types
each call ``Promise<void>``). A key the simulator runs with ``read_only_key`` is refused with 403 before
anything else; reads keep working. Writes name one real directory: ``-`` (all directories) is for reads.
A lost-answer fault (``faults.py``) answers a write it carried out with 504 or a dropped connection.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipeline.config.shared import ALL_DIRECTORIES
from pipeline.simulator import faults
from pipeline.simulator.api_v2 import user_directories
from pipeline.simulator.errors import ApiError, Codes
from pipeline.simulator.model import Group, Org, User
from pipeline.simulator.params import body_str, json_body
from pipeline.simulator.state import codes_for, find_org, state_of
from pipeline.simulator.writes import LimitReached, NotAllowed, NotFound, WriteRecord

MEMBERSHIPS = "/v2/orgs/{orgId}/directories/{directoryId}/groups/{groupId}/memberships"
USER = "/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}"


def _directory(request: Request, org: Org, codes: Codes) -> str:
    directory_id = request.path_params["directoryId"]
    if directory_id == ALL_DIRECTORIES:
        raise codes.bad_request("A change needs a directory id; '-' (all directories) is only for reads.")
    if all(directory.id != directory_id for directory in org.directories):
        raise codes.not_found(f"The directory {directory_id}")
    return directory_id


def _user(org: Org, directory_id: str, account_id: str, codes: Codes) -> User:
    user = org.users.get(account_id)
    if user is None or directory_id not in user_directories(org, user):
        raise codes.user_not_found(account_id)
    return user


def _group(org: Org, directory_id: str, group_id: str, codes: Codes) -> Group:
    group = org.groups.get(group_id)
    if group is None or group.directory_id != directory_id:
        raise codes.group_not_found(group_id)
    return group


async def _write(
    request: Request,
    action: str,
    account_id: object,
    change: Callable[[Org, str, Codes], bool],
) -> Response:
    """Check the key, run ``change`` (org, directory id, codes) → changed?, answer and log the answer."""
    sim = state_of(request)
    world = sim.world
    codes = codes_for(request)
    status, changed, lost = 500, False, None  # what the log says if the handler itself fails
    try:
        if world.config.read_only_key:
            raise codes.forbidden("The API key may read but not make changes in this organization.")
        org = find_org(request)
        directory_id = _directory(request, org, codes)
        try:
            changed = change(org, directory_id, codes)
        except NotFound as refusal:
            raise codes.not_found(refusal.detail) from None
        except NotAllowed as refusal:
            raise codes.forbidden(refusal.detail) from None
        except LimitReached as refusal:
            raise codes.license_limit(refusal.detail) from None
        status = 204
        if changed:  # a retry that finds the change made is answered: only a change can lose its answer
            resource = (org.id, action, directory_id, request.path_params.get("groupId", ""), str(account_id))
            lost = sim.faults.lose_answer(resource)
    except ApiError as error:
        status = error.status
        raise
    finally:
        world.writes.record(
            WriteRecord(
                at=world.now,
                org_id=request.path_params["orgId"],
                action=action,
                account_id=account_id if isinstance(account_id, str) else "",
                group_id=request.path_params.get("groupId"),
                status=status,
                changed=changed,
                request_id=sim.trace_id(request),
                answer_lost=lost is not None,
            )
        )
    if lost == faults.DROP:
        return faults.DroppedResponse(b'{"data": null}', 200, [(b"content-type", b"application/json")])
    if lost == faults.ERROR:
        return faults.gateway_error(504)
    return Response(status_code=204)


async def remove_group_member(request: Request) -> Response:
    account_id = request.path_params["accountId"]

    def change(org: Org, directory_id: str, codes: Codes) -> bool:
        group = _group(org, directory_id, request.path_params["groupId"], codes)
        user = _user(org, directory_id, account_id, codes)
        return state_of(request).world.writes.remove_member(org, group, user)

    return await _write(request, "remove_group_member", account_id, change)


async def add_group_member(request: Request) -> Response:
    try:
        body: dict | None = await json_body(request, codes_for(request))
    except ApiError:
        body = None  # refused inside _write, after the key check, like every other refusal
    logged = body.get("accountId") if body is not None else None

    def change(org: Org, directory_id: str, codes: Codes) -> bool:
        account_id = body_str(body, "accountId", codes) if body is not None else None
        if not account_id:
            raise codes.bad_request('The body must be {"accountId": "<account id>"}.')
        group = _group(org, directory_id, request.path_params["groupId"], codes)
        user = _user(org, directory_id, account_id, codes)
        return state_of(request).world.writes.add_member(org, group, user)

    return await _write(request, "add_group_member", logged, change)


async def suspend_user(request: Request) -> Response:
    account_id = request.path_params["accountId"]

    def change(org: Org, directory_id: str, codes: Codes) -> bool:
        return state_of(request).world.writes.suspend(org, _user(org, directory_id, account_id, codes))

    return await _write(request, "suspend_user", account_id, change)


async def restore_user(request: Request) -> Response:
    account_id = request.path_params["accountId"]

    def change(org: Org, directory_id: str, codes: Codes) -> bool:
        return state_of(request).world.writes.restore(org, _user(org, directory_id, account_id, codes))

    return await _write(request, "restore_user", account_id, change)


ROUTES = [
    Route(MEMBERSHIPS, add_group_member, methods=["POST"]),
    Route(MEMBERSHIPS + "/{accountId}", remove_group_member, methods=["DELETE"]),
    Route(USER + "/suspend", suspend_user, methods=["POST"]),
    Route(USER + "/restore", restore_user, methods=["POST"]),
]
