"""Responses validated against Atlassian's own OpenAPI spec: the Aug-2023 snapshot vendored in
``tests/fixtures/atlassian-spec/``.

The spec covers v1 orgs, users, last-active-dates, events, event-actions and v2 workspaces; the 2025+ v2
directory endpoints are not in it (their shapes are tested against the API doc in the other test files).
Newer documented fields (``last_active_timestamp``, ``added_to_org_timestamp``, ``processedAt``) are extra
properties the 2023 schemas allow, so the doc and the spec agree wherever both speak.

OpenAPI 3.0 schemas are not quite JSON Schema: ``nullable: true`` is turned into "or null", and ``$ref`` into
``#/components/schemas`` resolves because the spec's components are carried along in each schema.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from pipeline.simulator.model import FaultConfig
from pipeline.simulator.world import World
from tests.support.simulator_api import client_for

pytestmark = pytest.mark.anyio

# Vendored with a note of its origin (tests/fixtures/atlassian-spec/SOURCE.md).
SPEC_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "atlassian-spec" / "admin_organization.json"
# Keywords whose values are data, not schemas: never rewrite inside them.
_DATA_KEYWORDS = {"example", "examples", "enum", "default", "const", "description"}
_SCHEMA_MAPS = {"properties", "patternProperties", "schemas"}


def openapi_to_json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema: ``nullable: true`` becomes ``anyOf [schema, null]``."""
    if isinstance(node, list):
        return [openapi_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted: dict[str, Any] = {}
    for key, value in node.items():
        if key == "nullable" or key in _DATA_KEYWORDS:
            if key != "nullable":
                converted[key] = value
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            converted[key] = {name: openapi_to_json_schema(schema) for name, schema in value.items()}
        else:
            converted[key] = openapi_to_json_schema(value)
    if node.get("nullable") is True:
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def _date_time(value: object) -> bool:
    if not isinstance(value, str) or "T" not in value:
        return False
    return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


def _date(value: object) -> bool:
    return isinstance(value, str) and len(value) == 10 and bool(date.fromisoformat(value))


FORMATS = jsonschema.FormatChecker()
FORMATS.checks("date-time", raises=ValueError)(_date_time)
FORMATS.checks("date", raises=ValueError)(_date)


@cache
def _spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


@cache
def _components() -> dict[str, Any]:
    return {"schemas": openapi_to_json_schema(_spec()["components"]["schemas"])}


def response_schema(path: str, method: str, status: int) -> dict[str, Any]:
    """The JSON Schema of one documented response, ready to validate against."""
    response = _spec()["paths"][path][method]["responses"][str(status)]
    if "$ref" in response:
        response = _spec()["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    schema = openapi_to_json_schema(response["content"]["application/json"]["schema"])
    return {**schema, "components": _components()}


def assert_matches_spec(response: httpx.Response, path: str, method: str = "get") -> None:
    schema = response_schema(path, method, response.status_code)
    validator = jsonschema.Draft202012Validator(schema, format_checker=FORMATS)
    errors = sorted(validator.iter_errors(response.json()), key=lambda error: list(error.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


# ---- the helper itself must be able to fail ----------------------------------------------------------


def test_the_validator_rejects_what_the_spec_forbids() -> None:
    schema = response_schema("/v1/orgs/{orgId}/users", "get", 200)
    validator = jsonschema.Draft202012Validator(schema, format_checker=FORMATS)
    good = {
        "account_id": "a",
        "account_type": "atlassian",
        "account_status": "active",
        "name": "A",
        "picture": "p",
    }
    assert validator.is_valid({"data": [good]})
    assert not validator.is_valid({"data": [{**good, "account_status": "suspended"}]}), "enum"
    assert not validator.is_valid({"data": [{key: v for key, v in good.items() if key != "name"}]}), (
        "required"
    )
    assert not validator.is_valid({"data": [{**good, "last_active": "yesterday"}]}), "date-time format"
    assert not validator.is_valid({"data": [{**good, "product_access": [{"key": "jira", "name": "J"}]}]}), (
        "key"
    )
    workspaces = jsonschema.Draft202012Validator(response_schema("/v2/orgs/{orgId}/workspaces", "post", 200))
    assert workspaces.is_valid({"meta": {"startIndex": None, "total": 0}}), "nullable"
    assert not workspaces.is_valid({"meta": {"total": None}}), "not nullable"


# ---- 200 responses -----------------------------------------------------------------------------------


async def test_orgs_and_org(api, org_id: str) -> None:
    assert_matches_spec(await api.get("/v1/orgs"), "/v1/orgs")
    assert_matches_spec(await api.get(f"/v1/orgs/{org_id}"), "/v1/orgs/{orgId}")


async def test_v1_users_every_page(api, org_id: str) -> None:
    url = f"/v1/orgs/{org_id}/users"
    while url:
        response = await api.get(url)
        assert_matches_spec(response, "/v1/orgs/{orgId}/users")
        url = response.json()["links"].get("next")


async def test_last_active_dates(api, world: World, org_id: str) -> None:
    for user in list(world.orgs[org_id].users.values())[:80]:
        response = await api.get(f"/v1/orgs/{org_id}/directory/users/{user.account_id}/last-active-dates")
        assert_matches_spec(response, "/v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates")


async def test_events_event_and_actions(api, world: World, org_id: str) -> None:
    response = await api.get(f"/v1/orgs/{org_id}/events", params={"limit": 500})
    assert_matches_spec(response, "/v1/orgs/{orgId}/events")
    # The stream's PollingEventPage is newer than the spec; its items are EventModels plus processedAt.
    assert_matches_spec(await api.get(f"/v1/orgs/{org_id}/events-stream"), "/v1/orgs/{orgId}/events")
    event_id = response.json()["data"][0]["id"]
    assert_matches_spec(
        await api.get(f"/v1/orgs/{org_id}/events/{event_id}"), "/v1/orgs/{orgId}/events/{eventId}"
    )
    assert_matches_spec(await api.get(f"/v1/orgs/{org_id}/event-actions"), "/v1/orgs/{orgId}/event-actions")


async def test_workspaces(api, org_id: str) -> None:
    response = await api.post(f"/v2/orgs/{org_id}/workspaces", json={"limit": 2})
    assert_matches_spec(response, "/v2/orgs/{orgId}/workspaces", "post")
    second = await api.post(
        f"/v2/orgs/{org_id}/workspaces", json={"cursor": response.json()["links"]["next"]}
    )
    assert_matches_spec(second, "/v2/orgs/{orgId}/workspaces", "post")


# ---- error responses ---------------------------------------------------------------------------------


async def test_documented_errors(api, world: World, org_id: str) -> None:
    assert_matches_spec(await api.get("/v1/orgs/unknown"), "/v1/orgs/{orgId}")
    assert_matches_spec(await api.get("/v1/orgs/unknown/users"), "/v1/orgs/{orgId}/users")
    assert_matches_spec(await api.get("/v1/orgs", params={"cursor": "bad"}), "/v1/orgs")
    for params in ({"cursor": "bad"}, {"from": "soon"}):
        response = await api.get(f"/v1/orgs/{org_id}/events", params=params)
        assert response.status_code == 400
        assert_matches_spec(response, "/v1/orgs/{orgId}/events")
    missing = await api.get(f"/v1/orgs/{org_id}/directory/users/nobody/last-active-dates")
    assert_matches_spec(missing, "/v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates")
    async with client_for(world, key="wrong") as stranger:
        assert_matches_spec(await stranger.get("/v1/orgs"), "/v1/orgs")


async def test_write_refusals_use_the_documented_error_envelope(make_world: Callable[..., World]) -> None:
    """The v2 writes are not in the 2023 spec; their v1 twins (same envelope) document the refusals."""
    world = make_world(users=60)
    org = next(iter(world.orgs.values()))
    directory = org.directories[0].id
    group = next(g for g in org.groups.values() if g.members and not g.is_external_synced)
    member = sorted(group.members)[0]
    v1_add = "/v1/orgs/{orgId}/directory/groups/{groupId}/memberships"
    v1_remove = v1_add + "/{accountId}"
    base = f"/v2/orgs/{org.id}/directories/{directory}/groups"
    async with client_for(world) as client:
        missing_group = await client.delete(f"{base}/nope/memberships/{member}")
        missing_user = await client.post(f"{base}/{group.id}/memberships", json={"accountId": "nobody"})
        bad_body = await client.post(f"{base}/{group.id}/memberships", json={"accountId": 7})
        await client.post("/_simulator/user-limit", json={"product": "confluence", "limit": 0})
        full = next(g for g in org.groups.values() if g.name.startswith("confluence-users-"))
        outsider = next(
            u
            for u in org.users.values()
            if u.status == "active" and not set(full.product_seats()) & set(world.product_access(org.id, u))
        )
        limited = await client.post(f"{base}/{full.id}/memberships", json={"accountId": outsider.account_id})
    assert (missing_group.status_code, missing_user.status_code, bad_body.status_code) == (404, 404, 400)
    assert_matches_spec(missing_group, v1_remove, "delete")
    assert_matches_spec(missing_user, v1_add, "post")
    assert_matches_spec(bad_body, v1_add, "post")
    assert limited.status_code == 409
    schema = {"$ref": "#/components/schemas/Errors.ApplicationErrors.Model", "components": _components()}
    jsonschema.Draft202012Validator(schema).validate(limited.json())
    world_ro = make_world(users=60, read_only_key=True)
    org_ro = next(iter(world_ro.orgs.values()))
    async with client_for(world_ro) as client:
        forbidden = await client.delete(
            f"/v2/orgs/{org_ro.id}/directories/{org_ro.directories[0].id}/groups/g/memberships/a"
        )
    assert forbidden.status_code == 403
    assert_matches_spec(forbidden, v1_remove, "delete")


async def test_rate_limit_and_internal_errors(make_world: Callable[..., World]) -> None:
    world = make_world(faults=FaultConfig(storm_requests=1))
    org_id = next(iter(world.orgs))
    async with client_for(world) as client:
        limited = await client.get(f"/v1/orgs/{org_id}")
        assert limited.status_code == 429
        assert_matches_spec(limited, "/v1/orgs/{orgId}")
        await client.post("/_simulator/faults", json={"error_rate": 1, "seed": 3})
        statuses = set()
        for _ in range(20):
            response = await client.get(f"/v1/orgs/{org_id}/users")
            statuses.add(response.status_code)
            if response.status_code == 500:
                assert_matches_spec(response, "/v1/orgs/{orgId}/users")
    assert 500 in statuses
