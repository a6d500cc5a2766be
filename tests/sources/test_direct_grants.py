"""Direct grants: the extract reads the role assignments of exactly the users whose groups do not explain
their ``counts.resources``, finds every direct grant there whether productAccess lists it or not (it lists
used products only here), and records a per-user refusal in raw.user_read_failures while the fan-out goes on.
That unused direct grants become reclaim candidates is proven end to end by tests/test_identity_variants.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipeline.atlassian.endpoints import USER_ROLE_ASSIGNMENTS
from pipeline.extract.run import ExtractResult, run_extract
from pipeline.simulator import serialize
from pipeline.simulator.app import create_app
from pipeline.simulator.model import CONTRACT_PRODUCT_KEYS, SimulatorConfig
from pipeline.simulator.world import World
from pipeline.sources.atlassian_admin.org import OrgGroups
from pipeline.sources.atlassian_admin.roles import unexplained_resources
from tests.support.dbt_runner import run_dbt
from tests.support.extract import START, extract_in_process, make_world, query, settings_for
from tests.support.history import NO_TESTS
from tests.support.variants import GENEROUS_LIMITS

# One extract serves every test here: keep them on one xdist worker, so it runs once.
pytestmark = pytest.mark.xdist_group("direct_grants")

USERS = 400


def _unexplained(world: World) -> set[str]:
    """Accounts holding a role on a resource none of their groups holds one on (the world's own view)."""
    found = set()
    for org in world.orgs.values():
        for user in org.users.values():
            groups = world.user_groups(org.id, user)
            explained = {resource for group in groups for resource in serialize.group_grants(group, "v2")}
            if set(serialize.user_grants(user, groups, "v2")) - explained:
                found.add(user.account_id)
    return found


def _refusing(app: Any, *paths: str) -> Any:
    """The simulator, except that requests whose path ends so are refused (an odd account's 403)."""

    async def asgi(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith(paths):
            body = json.dumps({"errors": [{"status": "403", "code": "ADMIN-403-1", "title": "Forbidden"}]})
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 403, "headers": headers})
            await send({"type": "http.response.body", "body": body.encode()})
            return
        await app(scope, receive, send)

    return asgi


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, Any, ExtractResult, str]:
    """One extract with the per_user strategy (no productAccess at all: groups and role assignments are the
    only source of access), one account's role assignments and another's last-active dates refused."""
    world = make_world(USERS, product_access="used", rate_limits=dict(GENEROUS_LIMITS))
    unexplained = sorted(_unexplained(world))
    assert len(unexplained) >= 3, "the world should hold users with direct grants no group explains"
    refused = unexplained[0]
    settings = settings_for(
        world, tmp_path_factory.mktemp("direct"), SEATWATCH_LAST_ACTIVE_STRATEGY="per_user"
    )
    app = _refusing(
        create_app(world),
        f"/users/{refused}/role-assignments",
        f"/users/{unexplained[1]}/last-active-dates",
    )
    result = run_extract(settings, client_options={"transport": httpx.ASGITransport(app=app)})
    return world, settings, result, refused


def test_only_users_their_groups_do_not_explain_are_read(extracted) -> None:
    world, settings, result, refused = extracted
    read = {
        account for (account,) in query(settings, "select distinct account_id from raw.user_role_assignments")
    }
    assert read == _unexplained(world) - {refused}
    calls = sum(
        bucket.calls
        for stats in result.api_stats.values()
        for key, bucket in stats.by_bucket.items()
        if key.endswith(USER_ROLE_ASSIGNMENTS)
    )
    assert calls == len(_unexplained(world))


def test_every_direct_grant_no_group_explains_is_found(extracted) -> None:
    world, settings, _, refused = extracted
    rows = set(
        query(
            settings,
            """select account_id, resource_id from raw.user_role_assignments
               where role_id = 'atlassian/user' and assignment_methods like '%direct%'
                 and assignment_methods not like '%group_direct%'""",
        )
    )
    expected = {
        (user.account_id, serialize.ari(product, cloud, "v2"))
        for org in world.orgs.values()
        for user in org.users.values()
        if user.account_id != refused
        for product, cloud in user.direct_access
        if not any((product, cloud) in group.product_seats() for group in world.user_groups(org.id, user))
    }
    assert expected and rows == expected


def test_refused_accounts_are_recorded_and_the_fan_outs_go_on(extracted) -> None:
    world, settings, _, refused = extracted
    failures = query(
        settings,
        "select account_id, endpoint, status, code from raw.user_read_failures order by endpoint",
    )
    other = sorted(_unexplained(world))[1]
    assert failures == [
        (other, "last-active-dates", 403, "ADMIN-403-1"),
        (refused, "role-assignments", 403, "ADMIN-403-1"),
    ]
    last_active = query(settings, "select count(distinct account_id) from raw.user_product_last_active")
    assert last_active[0][0] > USERS // 2  # everyone else's dates were read


def test_the_signal() -> None:
    org = OrgGroups(
        session=None,  # type: ignore[arg-type]
        groups=[],
        assignments={
            "g1": [{"resourceId": "ari:cloud:jira::site/1"}, {"resourceId": "ari:cloud:jira-admin::site/1"}]
        },
    )
    assert not unexplained_resources({"counts": {"resources": 2}, "groups": [{"id": "g1"}]}, org)
    assert unexplained_resources({"counts": {"resources": 3}, "groups": [{"id": "g1"}]}, org)
    assert not unexplained_resources({"counts": {"resources": 0}, "groups": []}, org)
    assert unexplained_resources({"counts": {"resources": 1}, "groups": [{"id": "unknown-group"}]}, org)
    # no signal: read
    assert unexplained_resources({"groups": [{"id": "g1"}]}, org)
    assert unexplained_resources({"counts": {"resources": 2}}, org)


def test_a_membership_removed_between_two_runs_of_one_day_is_no_direct_grant(tmp_path: Path) -> None:
    """A user with a direct grant on one site and a group seat on another loses the group (seatwatch reclaim
    apply) between two runs of the same day: the group seat is gone, and the first run's role assignments
    of that day do not turn it into a direct grant (found by benchmarks/bench_reclaim.py)."""
    # seed 8: eight such users among 200
    world = World(SimulatorConfig(users=200, seed=8, start=START, rate_limits=dict(GENEROUS_LIMITS)))
    settings = settings_for(world, tmp_path / "data", SEATWATCH_LAST_ACTIVE_STRATEGY="per_user")
    org, user, group, seat = next(
        (org, user, group, (product, site))
        for org in world.orgs.values()
        for user in org.users.values()
        if user.direct_access and user.membership_status == "active"
        for group in world.user_groups(org.id, user)
        for product, site, _role in group.grants
        if len(group.product_seats()) == 1 and (product, site) not in user.direct_access
    )
    extract_in_process(world, settings)
    world.writes.remove_member(org, group, user)
    world.changed()
    extract_in_process(world, settings)  # the simulated clock has not moved: the same snapshot day
    run_dbt(settings.warehouse_path, tmp_path, "build", "--select", "+int_user_products__access", *NO_TESTS)

    product = CONTRACT_PRODUCT_KEYS[seat[0]]
    held = query(
        settings,
        f"""select product_key, site_id from intermediate.int_user_products__access
            where account_id = '{user.account_id}' and has_access""",
    )
    assert (product, seat[1]) not in held
    assert {(CONTRACT_PRODUCT_KEYS[p], site) for p, site in user.direct_access} <= set(held)
