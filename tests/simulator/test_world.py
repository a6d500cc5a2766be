"""The simulated world: determinism, the population mix, the lag, evolution and the audit log."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest

from pipeline.config.shared import AUDIT_RETENTION_DAYS
from pipeline.simulator.model import (
    ORG_ADMIN,
    ROLE_USER,
    SITE_ADMIN,
    SimulatorConfig,
    default_start,
)
from pipeline.simulator.world import World

START = datetime(2026, 3, 2, 6, tzinfo=UTC)  # a Monday
USERS = 400


def make_world(users: int = USERS, **overrides) -> World:
    return World(SimulatorConfig(users=users, start=START, **overrides))


def snapshot(world: World) -> list:
    """Everything the world holds, as comparable plain data."""
    return [
        (
            org.id,
            [dataclasses.astuple(user) for user in org.users.values()],
            [dataclasses.astuple(user) for user in org.removed_users.values()],
            [(group.id, group.name, sorted(group.members), group.grants) for group in org.groups.values()],
            [(workspace.id, workspace.capacity) for workspace in org.workspaces],
            [dataclasses.astuple(event) for event in org.events],
        )
        for org in world.orgs.values()
    ]


@pytest.fixture(scope="module")
def world() -> World:
    """A freshly generated world; tests that advance the clock build their own."""
    return make_world()


@pytest.fixture(scope="module")
def evolved() -> tuple[World, datetime]:
    """A world advanced 60 days, with the moment the evolution started."""
    evolving = make_world()
    evolving.advance(60)
    return evolving, START


def only_org(world: World):
    (org,) = world.orgs.values()
    return org


# --- determinism ---------------------------------------------------------------------------------------


def test_same_config_gives_the_same_world() -> None:
    first, second = make_world(), make_world()
    assert first.api_key == second.api_key
    assert snapshot(first) == snapshot(second)
    first.advance(2)
    second.advance(2)
    assert snapshot(first) == snapshot(second)


def test_a_different_seed_gives_a_different_world() -> None:
    assert snapshot(make_world(seed=8)) != snapshot(make_world())
    assert make_world(seed=8).api_key != make_world().api_key


def test_advancing_three_days_at_once_equals_one_day_three_times() -> None:
    at_once, stepwise = make_world(), make_world()
    at_once.advance(3)
    for _ in range(3):
        stepwise.advance(1)
    assert at_once.now == stepwise.now == START + timedelta(days=3)
    assert snapshot(at_once) == snapshot(stepwise)


def test_the_lag_changes_what_is_visible_not_what_happens() -> None:
    short, long = make_world(lag_hours=1), make_world(lag_hours=48)
    short.advance(2)
    long.advance(2)
    assert [org.events for org in short.orgs.values()] == [org.events for org in long.orgs.values()]
    short_latest = {
        user.account_id: max(stamps[-1] for stamps in user.activity.values())
        for user in only_org(short).users.values()
        if user.activity
    }
    long_latest = {
        user.account_id: max(stamps[-1] for stamps in user.activity.values())
        for user in only_org(long).users.values()
        if user.activity
    }
    assert short_latest == long_latest


def test_api_key_is_derived_from_the_seed_unless_given() -> None:
    assert re.fullmatch(r"sim-[0-9a-f]{32}", make_world(users=5).api_key)
    assert make_world(users=5, api_key="my-key").api_key == "my-key"


def test_default_start_is_today_at_six_utc() -> None:
    before = datetime.now(UTC).date()
    start = default_start()
    after = datetime.now(UTC).date()
    assert start.time() == time(6) and start.tzinfo is UTC
    assert start.date() in (before, after)


def test_config_rejects_a_naive_start() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        SimulatorConfig(start=datetime(2026, 3, 2, 6))


# --- structure and identifiers -------------------------------------------------------------------------


def test_org_ids_look_like_uuids_but_are_not_strict_ones() -> None:
    world = make_world(users=30, orgs=3)
    assert len(world.orgs) == 3
    for org_id in world.orgs:
        assert re.fullmatch(r"[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}", org_id)
        assert re.search(r"[g-z]", org_id), org_id
    account_ids = [user.account_id for org in world.orgs.values() for user in org.users.values()]
    assert len(account_ids) == len(set(account_ids)), "orgs share no accounts"


def test_account_ids_have_real_shapes(world: World) -> None:
    shapes = {"hex": 0, "prefixed": 0}
    for user in only_org(world).users.values():
        if re.fullmatch(r"[0-9a-f]{24}", user.account_id):
            shapes["hex"] += 1
        else:
            assert re.fullmatch(r"712020:[0-9a-f-]{36}", user.account_id), user.account_id
            shapes["prefixed"] += 1
    assert shapes["hex"] and shapes["prefixed"]


def test_sites_products_and_workspaces(world: World) -> None:
    org = only_org(world)
    assert len(org.sites) == 2
    site = org.sites[0]
    assert site.host_url == f"https://{site.name}.atlassian.net"
    assert site.ari("confluence") == f"ari:cloud:confluence::site/{site.cloud_id}"
    assert set(org.sites[0].products) != set(org.sites[1].products), "not every product on every site"
    assert {(w.product_key, w.site.cloud_id) for w in org.workspaces} == {
        (product, s.cloud_id) for s in org.sites for product in s.products
    }
    usage = world.seat_usage(org.id)
    for workspace in org.workspaces:
        assert workspace.id.endswith("/" + workspace.site.cloud_id)
        assert workspace.capacity >= usage[workspace.seat] > 0


def test_small_worlds_have_one_site_and_still_work() -> None:
    for users in (1, 7, 60):
        tiny = make_world(users=users)
        org = only_org(tiny)
        assert len(org.users) == users and len(org.sites) == 1
        tiny.advance(3)
        tiny.truth()


def test_groups_grant_single_products_several_products_admin_and_nothing(world: World) -> None:
    groups = list(only_org(world).groups.values())
    single = [g for g in groups if len(g.product_seats()) == 1 and not g.is_external_synced]
    multi = [g for g in groups if len({product for product, _ in g.product_seats()}) >= 2]
    admin = [g for g in groups if any(role != ROLE_USER for _, _, role in g.grants)]
    empty = [g for g in groups if not g.grants]
    synced = [g for g in groups if g.is_external_synced]
    assert single and multi and admin and len(empty) >= 3 and len(synced) == 1
    assert synced[0].managed_by == "external"
    assert all(g.members for g in single + multi + admin + synced)


def test_product_access_comes_from_groups_and_direct_grants(world: World) -> None:
    org = only_org(world)
    direct = [user for user in org.users.values() if user.direct_access]
    assert direct, "some users have access without a group"
    for user in direct:
        assert set(user.direct_access) <= set(world.product_access(org.id, user))
    all_staff = next(g for g in org.groups.values() if g.name == "all-staff")
    member = org.users[next(iter(sorted(all_staff.members)))]
    assert set(all_staff.product_seats()) <= set(world.product_access(org.id, member))
    assert all_staff in world.user_groups(org.id, member)


# --- population ----------------------------------------------------------------------------------------


def test_population_mix(world: World) -> None:
    users = list(only_org(world).users.values())
    pending = [u for u in users if u.invited_at and u.accepted_at is None and u.account_status == "active"]
    assert 0.035 * USERS <= len(pending) <= 0.08 * USERS
    ages = [(START - u.invited_at).days for u in pending]
    assert min(ages) < 14 and max(ages) > 21, "some pending invites are recent, some weeks old"
    assert any(u.membership_status == "suspended" for u in users)
    assert any(u.membership_status == "no_membership" for u in users)
    assert any(u.account_status == "inactive" and not u.for_deletion for u in users)
    assert any(u.account_status == "closed" for u in users)
    assert any(u.for_deletion and u.status == "for_deletion" for u in users)
    assert any(u.claim_status == "unmanaged" and u.account_type == "atlassian" for u in users)
    assert any(u.management_source == "synced" and u.invited_at is None for u in users)
    assert sum(u.account_type == "app" for u in users) >= 3
    assert sum(u.account_type == "customer" for u in users) >= 2
    assert any(ORG_ADMIN in u.platform_roles for u in users)
    assert any(SITE_ADMIN in u.platform_roles for u in users)
    assert any(u.email is None and u.account_type == "atlassian" for u in users)


def test_names_are_unicode_and_emails_unique(world: World) -> None:
    users = list(only_org(world).users.values())
    names = [user.name for user in users]
    assert any(re.search(r"[\u4e00-\u9fff]", name) for name in names), "CJK names"
    assert any(re.search(r"[À-ž]", name) for name in names), "accented Latin names"
    emails = [user.email for user in users if user.email]
    assert len(emails) == len(set(emails))
    assert all(email.isascii() and "@" in email for email in emails)
    assert any(email.endswith("@gmail.com") or email.endswith("@outlook.com") for email in emails)


def test_recency_is_skewed_with_a_long_tail(world: World) -> None:
    org = only_org(world)
    ages = []
    never_used_seats = 0
    for user in org.users.values():
        visible = world.visible_last_active(org.id, user)
        if visible:
            ages.append((world.now - max(at for _, _, at in visible)).days)
        used = {(product, cloud_id) for product, cloud_id, _ in visible}
        never_used_seats += len(set(world.product_access(org.id, user)) - used)
    ages.sort()
    assert ages[len(ages) // 2] <= 3, "most users were active in the last days"
    assert sum(30 <= age <= 365 for age in ages) >= 0.1 * len(ages)
    assert any(age > 365 for age in ages)
    assert never_used_seats > 0


def test_last_active_is_shown_only_for_seats_the_user_can_access(world: World) -> None:
    org = only_org(world)
    revoked_but_used = 0
    for user in org.users.values():
        access = set(world.product_access(org.id, user))
        shown = {(p, c) for p, c, _ in world.visible_last_active(org.id, user)}
        assert shown <= access
        assert set(user.observed) >= shown  # what is shown now is also what a daily pipeline has seen
        revoked_but_used += bool(set(user.activity) - access)
    assert revoked_but_used, "some users used a product they have since lost"


def test_apps_and_customers_are_never_active(evolved) -> None:
    world, _ = evolved
    for user in only_org(world).users.values():
        if user.account_type != "atlassian":
            assert not user.activity, user.name


def test_invites_in_the_last_180_days_have_events_by_the_inviter(world: World) -> None:
    org = only_org(world)
    invites = {e.subject_account_id: e for e in org.events if e.action == "user_invited"}
    recent = [u for u in org.users.values() if u.invited_at and u.invited_at >= START - timedelta(days=180)]
    assert recent
    for user in recent:
        event = invites[user.account_id]
        assert event.actor_id == user.invited_by and event.time == user.invited_at
        assert event.message == f"Invited user {user.email or user.name}"
    old = [u for u in org.users.values() if u.invited_at and u.invited_at < START - timedelta(days=180)]
    assert old and not any(u.account_id in invites for u in old)


def test_invited_users_are_added_to_the_org_when_invited(world: World) -> None:
    invited = [u for u in only_org(world).users.values() if u.invited_at]
    assert invited and all(u.added_to_org == u.invited_at for u in invited)


# --- the lag -------------------------------------------------------------------------------------------


def _a_visit_on_the_last_day(world: World) -> tuple[str, tuple[str, str], datetime]:
    """(account id, seat, moment) of some activity during the last simulated day."""
    day_start = world.now - timedelta(days=1)
    for user in only_org(world).users.values():
        for seat, stamps in sorted(user.activity.items()):
            for stamp in stamps:
                moment = datetime.fromtimestamp(stamp, UTC)
                if day_start <= moment < world.now - timedelta(hours=2):
                    return user.account_id, seat, moment
    raise AssertionError("no activity on the last day")


def test_activity_becomes_visible_exactly_lag_hours_later() -> None:
    probe = make_world()
    probe.advance(2)
    account_id, seat, moment = _a_visit_on_the_last_day(probe)
    seen_at = probe.now + timedelta(days=1)  # we look one day after the probe's clock

    def shown(lag_hours: float) -> datetime | None:
        world = make_world(lag_hours=lag_hours)
        world.advance(3)
        assert world.now == seen_at
        user = world.orgs[next(iter(world.orgs))].users[account_id]
        for product, cloud_id, at in world.visible_last_active(next(iter(world.orgs)), user):
            if (product, cloud_id) == seat:
                return at
        return None

    exact_lag = (seen_at - moment).total_seconds() / 3600
    assert shown(exact_lag) == moment, "visible at T + lag"
    assert shown(exact_lag + 1) != moment, "invisible at T + lag - 1h"


def test_visible_last_active_follows_the_cutoff(evolved) -> None:
    world, _ = evolved
    org = only_org(world)
    cutoff = world.activity_complete_through
    checked = 0
    for user in org.users.values():
        visible = {(p, c): at for p, c, at in world.visible_last_active(org.id, user)}
        access = set(world.product_access(org.id, user))
        for seat, stamps in user.activity.items():
            if seat not in access:
                continue
            moments = [datetime.fromtimestamp(stamp, UTC) for stamp in stamps]
            seen = [m for m in moments if m <= cutoff]
            assert visible.get(seat) == (max(seen) if seen else None)
            checked += any(m > cutoff for m in moments)
    assert checked > 10, "some activity is still hidden by the lag"


# --- evolution -----------------------------------------------------------------------------------------


def _events(world: World, action: str) -> dict[tuple[str, datetime], object]:
    org = only_org(world)
    return {(e.subject_account_id, e.time): e for e in org.events if e.action == action}


def test_evolution_invites_and_acceptances(evolved) -> None:
    world, since = evolved
    org = only_org(world)
    everyone = list(org.users.values()) + list(org.removed_users.values())
    invited = [u for u in everyone if u.invited_at and u.invited_at >= since]
    assert len(invited) >= 10
    invites = _events(world, "user_invited")
    additions = {e.subject_account_id for e in org.events if e.action == "user_added_to_group"}
    for user in invited:
        assert invites[(user.account_id, user.invited_at)].actor_id == user.invited_by
        assert user.account_id in additions
    accepted = [u for u in invited if u.accepted_at]
    assert accepted and len(accepted) < len(invited), "most accept, not all"
    logins = [(e.subject_account_id, e.time) for e in org.events if e.action == "user_login"]
    for user in accepted:
        assert user.accepted_at > user.invited_at
        assert any(
            subject == user.account_id and timedelta(0) < user.accepted_at - at <= timedelta(minutes=2)
            for subject, at in logins
        ), "signing in to accept leaves a login event"
        first_use = min(stamp for stamps in user.activity.values() for stamp in stamps)
        assert datetime.fromtimestamp(first_use, UTC) >= user.accepted_at


def test_evolution_suspends_restores_and_deactivates_with_events(evolved) -> None:
    world, since = evolved
    org = only_org(world)
    suspended = [u for u in org.users.values() if u.suspended_at and u.suspended_at >= since]
    assert suspended
    events = _events(world, "user_access_suspended")
    for user in suspended:
        assert (user.account_id, user.suspended_at) in events
        assert user.membership_status == "suspended"
        suspension = int(user.suspended_at.timestamp())
        assert all(stamp < suspension for stamps in user.activity.values() for stamp in stamps)
    assert _events(world, "user_access_restored")
    deactivations = _events(world, "account_deactivated")
    deactivated = [u for u in org.users.values() if u.deactivated_on and u.deactivated_on >= since]
    assert deactivated
    for user in deactivated:
        if user.account_status == "inactive":
            assert (user.account_id, user.deactivated_on) in deactivations


def test_evolution_removes_users_from_the_directory(evolved) -> None:
    world, _ = evolved
    org = only_org(world)
    assert org.removed_users
    removals = _events(world, "user_removed_from_directory")
    for account_id, user in org.removed_users.items():
        assert account_id not in org.users
        assert (account_id, user.removed_at) in removals
        assert not any(account_id in group.members for group in org.groups.values())
        assert world.find_user(org.id, account_id) is None


def test_evolution_changes_groups_and_roles(evolved) -> None:
    world, _ = evolved
    actions = {event.action for event in only_org(world).events}
    assert {"user_removed_from_group", "user_created", "user_login"} <= actions
    assert actions & {"user_granted_role", "user_revoked_role"}
    assert actions <= {action.key for action in world.event_actions()}


def test_capacity_keeps_up_with_access(evolved) -> None:
    world, _ = evolved
    org = only_org(world)
    usage = world.seat_usage(org.id)
    assert all(workspace.capacity >= usage[workspace.seat] for workspace in org.workspaces)


# --- the audit log -------------------------------------------------------------------------------------


def test_event_actions_have_atlassian_style_names() -> None:
    actions = {action.key: action for action in make_world(users=5).event_actions()}
    expected = {
        "user_granted_role",
        "user_revoked_role",
        "user_login",
        "group_created",
        "user_created",
        "user_invited",
        "user_access_suspended",
        "user_access_restored",
        "account_deactivated",
        "account_reactivated",
        "user_removed_from_directory",
        "user_added_to_group",
        "user_removed_from_group",
    }
    assert expected <= set(actions)
    assert actions["user_invited"].display_name == "Invited user"
    assert actions["account_deactivated"].group_display_name == "Atlassian accounts"
    assert actions["user_added_to_group"].group_display_name == "Group management"


def test_audit_log_keeps_180_days_of_processed_events() -> None:
    world = make_world(users=150)
    oldest_at_start = min(event.time for event in world.audit_events(next(iter(world.orgs))))
    late = 0
    for _ in range(4):
        world.advance(50)
        org = only_org(world)
        served = world.audit_events(org.id)
        horizon = world.now - timedelta(days=AUDIT_RETENTION_DAYS)
        assert served, "the log is never empty"
        assert all(event.time >= horizon and event.processed_at <= world.now for event in served)
        assert list(served) == sorted(served, key=lambda event: (event.processed_at, event.id))
        expected = {e.id for e in org.events if e.processed_at <= world.now and e.time >= horizon}
        assert {event.id for event in served} == expected
        late += sum(event.processed_at - event.time >= timedelta(hours=1) for event in served)
    assert oldest_at_start < world.now - timedelta(days=AUDIT_RETENTION_DAYS)
    assert late, "a few events reach the log hours late"


def test_events_carry_actor_subject_site_and_location(evolved) -> None:
    world, _ = evolved
    served = world.audit_events(only_org(world).id)
    sites = {site.cloud_id: site.host_url for site in only_org(world).sites}
    assert all(event.actor_id and event.ip and event.country and event.message for event in served)
    with_site = [event for event in served if event.cloud_id]
    assert with_site and all(sites[event.cloud_id] == event.site_host for event in with_site)
    assert any(event.subject_account_id for event in served)


def test_the_clock_only_moves_forward() -> None:
    world = make_world(users=5)
    with pytest.raises(ValueError, match="forward"):
        world.advance(-1)
    world.advance(0)
    assert world.now == START
    assert date(2026, 3, 2) == world.now.date()
