"""Ground truth: the contract's lifecycle rules on what the API shows, idle seats judged at as-of."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.simulator.model import CONTRACT_PRODUCT_KEYS, SimulatorConfig, User
from pipeline.simulator.truth import LATENT_STATUSES, LIFECYCLE_STATUSES, Policy, lifecycle_status
from pipeline.simulator.world import World

START = datetime(2026, 3, 2, 6, tzinfo=UTC)
USERS = 400


def make_world(users: int = USERS, **overrides) -> World:
    return World(SimulatorConfig(users=users, start=START, **overrides))


@pytest.fixture(scope="module")
def evolved() -> World:
    world = make_world()
    world.advance(45)
    return world


@pytest.fixture(scope="module")
def truth(evolved: World) -> dict:
    return evolved.truth()


def parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def test_header_follows_the_as_of_rules(evolved: World, truth: dict) -> None:
    json.dumps(truth)  # JSON-ready
    assert parse(truth["now"]) == evolved.now == START + timedelta(days=45)
    assert truth["lag_hours"] == 24.0
    complete_through = parse(truth["activity_complete_through"])
    assert complete_through == evolved.now - timedelta(hours=24)
    assert truth["as_of_date"] == complete_through.date().isoformat()
    (summary,) = truth["orgs"]
    assert sum(summary["lifecycle_counts"].values()) == len(truth["users"])


def test_statuses_are_the_contract_values(truth: dict) -> None:
    lifecycles = {user["lifecycle_status"] for user in truth["users"]}
    assert lifecycles <= set(LIFECYCLE_STATUSES)
    assert {user["latent_status"] for user in truth["users"]} <= set(LATENT_STATUSES)
    # An evolved world shows nearly every status (closed accounts may all have been cleaned up).
    assert len(lifecycles - {"closed"}) == len(LIFECYCLE_STATUSES) - 1


def test_invited_pending_users_have_no_visible_activity_and_an_invite(truth: dict) -> None:
    pending = [user for user in truth["users"] if user["lifecycle_status"] == "invited_pending"]
    assert len(pending) >= 0.02 * USERS
    for user in pending:
        assert user["visible_last_active_at"] is None
        assert all(seat["visible_last_active_at"] is None for seat in user["seats"])
        assert user["management_source"] == "invited" or user["has_invite_event"]
        assert user["invited_at"] is not None


def test_removed_users_are_listed_with_removed_at(evolved: World, truth: dict) -> None:
    org = next(iter(evolved.orgs.values()))
    removed = {user["account_id"]: user for user in truth["users"] if user["removed_at"]}
    assert removed and set(removed) == set(org.removed_users)
    for account_id, user in removed.items():
        assert user["lifecycle_status"] == "removed" == user["latent_status"]
        assert parse(user["removed_at"]) == org.removed_users[account_id].removed_at
        assert not any(seat["has_access"] or seat["is_idle"] for seat in user["seats"])


def test_latent_and_observable_statuses_agree_where_they_must(truth: dict) -> None:
    allowed = {
        "active": {"active", "inactive"},
        "dormant": {"active", "inactive"},
        "accepted_not_yet_visible": {"invited_pending", "never_active"},
        "pending_invite": {"invited_pending", "never_active"},
        "never_active": {"never_active"},
        "bot": {"never_active"},
        "customer": {"never_active"},
    }
    for user in truth["users"]:
        expected = allowed.get(user["latent_status"], {user["latent_status"]})
        assert user["lifecycle_status"] in expected, user


def test_a_fresh_acceptance_is_hidden_by_the_lag() -> None:
    world = make_world()
    for _ in range(20):
        world.advance(1)
        org = next(iter(world.orgs.values()))
        fresh = [
            user
            for user in org.users.values()
            if user.accepted_at and user.accepted_at > world.activity_complete_through and user.invited_at
        ]
        if fresh:
            break
    assert fresh, "someone accepts an invite within three weeks"
    truth = {user["account_id"]: user for user in world.truth()["users"]}
    for user in fresh:
        entry = truth[user.account_id]
        assert entry["latent_status"] == "accepted_not_yet_visible"
        assert entry["latent_last_active_at"] is not None and entry["visible_last_active_at"] is None
        if user.management_source == "invited":
            assert entry["lifecycle_status"] == "invited_pending"


def test_seat_dates_respect_the_cutoff(truth: dict) -> None:
    cutoff = parse(truth["activity_complete_through"])
    hidden = 0
    for user in truth["users"]:
        for seat in user["seats"]:
            latent, visible = parse(seat["latent_last_active_at"]), parse(seat["visible_last_active_at"])
            if visible:
                assert visible <= cutoff and visible <= latent
            # A seat the user can access is observed every day; a revoked one keeps what was seen before.
            if latent and latent <= cutoff and not user["removed_at"] and seat["has_access"]:
                assert visible == latent
            hidden += bool(latent and latent > cutoff)
    assert hidden, "some activity is still inside the lag window"


def _a_seat(truth: dict, visible: bool) -> tuple[str, dict]:
    for user in truth["users"]:
        if user["lifecycle_status"] not in ("active", "inactive", "never_active"):
            continue
        for seat in user["seats"]:
            days = seat["days_since_last_active"]
            if seat["has_access"] and (days is not None and days > 5 if visible else days is None):
                return user["account_id"], seat
    raise AssertionError("no such seat")


def _seat_in(truth: dict, account_id: str, seat: dict) -> dict:
    user = next(user for user in truth["users"] if user["account_id"] == account_id)
    return next(
        s for s in user["seats"] if (s["product_key"], s["site_id"]) == (seat["product_key"], seat["site_id"])
    )


def test_inactive_threshold_is_strictly_more_than_n_days_at_as_of(evolved: World, truth: dict) -> None:
    account_id, seat = _a_seat(truth, visible=True)
    days = seat["days_since_last_active"]
    as_of = datetime.fromisoformat(truth["as_of_date"]).date()
    assert days == (as_of - parse(seat["visible_last_active_at"]).date()).days
    at_threshold = _seat_in(evolved.truth(inactive_after_days=days), account_id, seat)
    over_threshold = _seat_in(evolved.truth(inactive_after_days=days - 1), account_id, seat)
    assert not at_threshold["is_idle"] and at_threshold["reclaim_reason"] is None
    assert over_threshold["is_idle"] and over_threshold["reclaim_reason"] == "inactive"


def test_never_used_seats_get_a_grace_period_from_added_to_org(evolved: World, truth: dict) -> None:
    account_id, seat = _a_seat(truth, visible=False)
    user = next(user for user in truth["users"] if user["account_id"] == account_id)
    as_of = datetime.fromisoformat(truth["as_of_date"]).date()
    age = (as_of - parse(user["added_to_org_at"]).date()).days
    inside = _seat_in(evolved.truth(new_user_grace_days=age), account_id, seat)
    outside = _seat_in(evolved.truth(new_user_grace_days=age - 1), account_id, seat)
    assert not inside["is_idle"]
    assert outside["is_idle"] and outside["reclaim_reason"] == "never_used"


def test_reclaim_reasons_follow_the_lifecycle(truth: dict) -> None:
    reasons = set()
    for user in truth["users"]:
        for seat in user["seats"]:
            reason = seat["reclaim_reason"]
            reasons.add(reason)
            if reason is None:
                continue
            assert seat["has_access"]
            assert user["lifecycle_status"] in ("active", "inactive", "never_active", "invited_pending")
            if user["lifecycle_status"] == "invited_pending":
                assert reason == "invite_not_accepted"
            else:
                assert seat["is_idle"]
                assert (reason == "never_used") == (seat["visible_last_active_at"] is None)
    assert {"inactive", "never_used", "invite_not_accepted"} <= reasons


def test_the_lag_is_a_pure_time_shift_so_it_never_makes_an_active_seat_idle() -> None:
    """A world with a 24-hour lag judges now exactly as a lag-free world judged a day earlier."""
    lagged, instant = make_world(lag_hours=24), make_world(lag_hours=0)
    # Both worlds evolve identically (the lag only changes what is visible). A seat revoked for a while can
    # hide its last use from one of them, so compare only seats accessible at every daily boundary.
    interrupted: set[tuple[str, tuple[str, str]]] = set()
    for _ in range(21):
        lagged.advance(1)
        for org in lagged.orgs.values():
            for user in org.users.values():
                access = set(lagged.product_access(org.id, user))
                interrupted.update(
                    (user.account_id, (CONTRACT_PRODUCT_KEYS[seat[0]], seat[1]))
                    for seat in set(user.activity) - access
                )
    instant.advance(20)
    assert lagged.activity_complete_through == instant.activity_complete_through
    judged_late = {u["account_id"]: u for u in lagged.truth()["users"]}
    judged_then = {u["account_id"]: u for u in instant.truth()["users"]}
    compared = 0
    for account_id, then in judged_then.items():
        late = judged_late.get(account_id)
        if late is None or late["removed_at"] or then["removed_at"]:
            continue
        seats_late = {(s["product_key"], s["site_id"]): s for s in late["seats"]}
        for seat in then["seats"]:
            key = (seat["product_key"], seat["site_id"])
            twin = seats_late.get(key)
            if twin is None or twin["has_access"] != seat["has_access"] or (account_id, key) in interrupted:
                continue
            assert twin["visible_last_active_at"] == seat["visible_last_active_at"]
            assert twin["is_idle"] == seat["is_idle"], (account_id, seat)
            compared += 1
    assert compared > USERS


def test_truth_for_one_org_of_several() -> None:
    world = make_world(users=60, orgs=2)
    first, second = world.orgs
    only_first = world.truth(first)
    assert {user["org_id"] for user in only_first["users"]} == {first}
    assert [summary["org_id"] for summary in world.truth()["orgs"]] == [first, second]


def _user(**fields) -> User:
    base = {
        "account_id": "a" * 24,
        "account_type": "atlassian",
        "name": "Zoë Łukasz",
        "nickname": "Zoë",
        "email": None,
        "email_verified": True,
        "claim_status": "managed",
        "management_source": None,
        "platform_roles": [],
        "mfa_enabled": False,
        "added_to_org": START - timedelta(days=400),
    }
    return User(**{**base, **fields})


@pytest.mark.parametrize(
    ("fields", "visible_days_ago", "invite_event", "expected"),
    [
        ({"account_status": "closed", "membership_status": "suspended"}, 1, False, "closed"),
        ({"account_status": "inactive", "membership_status": "suspended"}, 1, False, "deactivated"),
        ({"membership_status": "suspended", "management_source": "invited"}, None, True, "suspended"),
        ({"membership_status": "no_membership"}, None, False, "not_invited"),
        ({"management_source": "invited"}, None, False, "invited_pending"),
        ({"claim_status": "unmanaged"}, None, True, "invited_pending"),
        ({"claim_status": "unmanaged"}, None, False, "never_active"),  # invite older than the audit log
        ({"management_source": "synced"}, None, False, "never_active"),
        ({"management_source": "invited"}, 90, True, "active"),
        ({"management_source": "invited"}, 91, True, "inactive"),
        ({"removed_at": START}, 1, False, "removed"),
    ],
)
def test_lifecycle_rules_in_order(fields, visible_days_ago, invite_event, expected) -> None:
    policy = Policy(START, timedelta(hours=24), 90, 30, 14)
    as_of_noon = datetime.combine(policy.as_of, datetime.min.time(), UTC) + timedelta(hours=12)
    visible = None if visible_days_ago is None else as_of_noon - timedelta(days=visible_days_ago)
    assert lifecycle_status(_user(**fields), visible, invite_event, policy) == expected
