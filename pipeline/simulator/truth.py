"""Ground truth: what the warehouse should conclude now, and what is really going on.

Two views per user:

``lifecycle_status`` — the **observable** status, the data contract's nine rules (first match wins) applied
to exactly what the API shows now: account and membership status, visible (lagged) last-active dates,
``managementSource``, and invite events still in the audit log. A removed user's status is ``removed``.
"Product activity ever observed" equals "a visible last-active now" here, because the API keeps showing a
seat's last-active (even after access is lost) for as long as the user is in the org. One caveat: a
warehouse that has loaded for longer than the audit retention may remember invite events the log has since
dropped; the truth only counts invites the log still holds (``has_invite_event``).

``latent_status`` — the world's own view, not limited by the lag or the audit retention (first match wins):

- ``removed``: removed from the directory (gone from the API)
- ``closed``: the account is closed
- ``deactivated``: the account is deactivated (including accounts scheduled for deletion)
- ``suspended``: org access suspended
- ``not_invited``: a managed account in none of the org's directories
- ``bot``: an app account; never active
- ``customer``: a customer account (service-desk portal); never active, holds no seat
- ``pending_invite``: invited and has not used any product yet (may still accept, or never)
- ``never_active``: member without an invite (IdP-synced) who has not used any product yet
- ``accepted_not_yet_visible``: has used a product, but all of it is still inside the lag window
- ``active``: last product use within ``inactive_after_days`` of now
- ``dormant``: used products before, but not within ``inactive_after_days`` of now

Per seat, ``is_idle`` is judged at the **as-of** time (``as_of_date`` = UTC date of ``now - lag``), with
visible dates only: the seat has access and either was never visibly used while the user was added to the
org more than ``new_user_grace_days`` before ``as_of_date``, or ``as_of_date - date(visible last active) >
inactive_after_days``. Judging at as-of and not at ``now`` is the contract's guarantee that the lag can never
make an active seat look idle: a seat used after ``activity_complete_through`` cannot be seen by anyone yet,
so the last day anyone can judge completely is the as-of date. ``reclaim_reason`` applies the contract's
reclaim rules on top (lifecycle gating, ``invite_not_accepted``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pipeline.simulator import activity
from pipeline.simulator.access import access_map
from pipeline.simulator.model import CONTRACT_PRODUCT_KEYS, Org, SeatKey, User, WorldState

LIFECYCLE_STATUSES = (
    "removed",
    "closed",
    "deactivated",
    "suspended",
    "not_invited",
    "invited_pending",
    "never_active",
    "active",
    "inactive",
)
LATENT_STATUSES = (
    "removed",
    "closed",
    "deactivated",
    "suspended",
    "not_invited",
    "bot",
    "customer",
    "pending_invite",
    "never_active",
    "accepted_not_yet_visible",
    "active",
    "dormant",
)
# Only these lifecycles hold a seat that could be reclaimed (suspended and deactivated users hold none).
CANDIDATE_LIFECYCLES = ("active", "inactive", "never_active", "invited_pending")


def iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


class Policy:
    """The as-of frame and the contract's thresholds that a verdict is judged by."""

    def __init__(self, now: datetime, lag: timedelta, inactive: int, new_user_grace: int, invite_grace: int):
        self.now = now
        self.complete_through = now - lag
        self.cutoff = activity.epoch(self.complete_through)
        self.as_of = self.complete_through.date()
        self.inactive = inactive
        self.new_user_grace = new_user_grace
        self.invite_grace = invite_grace

    def days_since(self, moment: datetime | None) -> int | None:
        return (self.as_of - moment.date()).days if moment else None


def _account_state(user: User) -> str | None:
    """Rules 1-5, shared by the observable and the latent status: the account itself says it all."""
    if user.removed_at is not None:
        return "removed"
    if user.account_status == "closed":
        return "closed"
    if user.account_status == "inactive":
        return "deactivated"
    if user.membership_status == "suspended":
        return "suspended"
    if user.membership_status == "no_membership":
        return "not_invited"
    return None


def lifecycle_status(
    user: User, visible_latest: datetime | None, has_invite_event: bool, policy: Policy
) -> str:
    """The contract's nine rules, in order, on what the API shows."""
    if (state := _account_state(user)) is not None:
        return state
    if visible_latest is None:
        if user.management_source == "invited" or has_invite_event:
            return "invited_pending"
        return "never_active"
    return "active" if policy.days_since(visible_latest) <= policy.inactive else "inactive"


def latent_status(
    user: User, latent_latest: datetime | None, visible_latest: datetime | None, policy: Policy
) -> str:
    """What is really going on (see the module docstring for the values)."""
    if (state := _account_state(user)) is not None:
        return state
    if user.account_type == "app":
        return "bot"
    if user.account_type == "customer":
        return "customer"
    if latent_latest is None:
        return "pending_invite" if user.invited_at is not None else "never_active"
    if visible_latest is None:
        return "accepted_not_yet_visible"
    recent = (policy.now.date() - latent_latest.date()).days <= policy.inactive
    return "active" if recent else "dormant"


def _seat_truth(
    seat: SeatKey,
    user: User,
    has_access: bool,
    lifecycle: str,
    invited_at: datetime | None,
    policy: Policy,
) -> dict[str, Any]:
    stamps = user.activity.get(seat, [])
    latent = activity.from_epoch(stamps[-1]) if stamps else None
    visible_epoch = user.observed.get(seat) if user.removed_at is None else None
    visible = activity.from_epoch(visible_epoch) if visible_epoch is not None else None
    days = policy.days_since(visible)
    if visible is None:
        never_used_idle = (policy.as_of - user.added_to_org.date()).days > policy.new_user_grace
        is_idle = has_access and never_used_idle
    else:
        is_idle = has_access and days > policy.inactive
    reason = None
    if has_access and lifecycle in CANDIDATE_LIFECYCLES:
        if lifecycle == "invited_pending":
            if invited_at is not None and policy.days_since(invited_at) > policy.invite_grace:
                reason = "invite_not_accepted"
        elif is_idle:
            reason = "never_used" if visible is None else "inactive"
    return {
        # the contract's product identity, whatever key the API variant speaks
        "product_key": CONTRACT_PRODUCT_KEYS.get(seat[0], seat[0]),
        "site_id": seat[1],
        "has_access": has_access,
        "latent_last_active_at": iso(latent),
        "visible_last_active_at": iso(visible),
        "days_since_last_active": days,
        "is_idle": is_idle,
        "reclaim_reason": reason,
    }


def _user_truth(
    org: Org,
    user: User,
    seats: set[SeatKey],
    invite_events: dict[str, datetime],
    policy: Policy,
) -> dict[str, Any]:
    removed = user.removed_at is not None
    latent_latest = max((stamps[-1] for stamps in user.activity.values()), default=None)
    # "Ever observed" (contract rule 6) is what the API has shown over time, not only what it shows now.
    visible_latest = None if removed else max(user.observed.values(), default=None)
    latent_at = activity.from_epoch(latent_latest) if latent_latest is not None else None
    visible_at = activity.from_epoch(visible_latest) if visible_latest is not None else None
    has_invite_event = user.account_id in invite_events
    lifecycle = lifecycle_status(user, visible_at, has_invite_event, policy)
    # What a warehouse can know as the invite date: the event, else addedToOrg of an invited account.
    observed_invited_at = invite_events.get(user.account_id) or (
        user.added_to_org if user.management_source == "invited" else None
    )
    all_seats = sorted(seats | set(user.activity))
    return {
        "org_id": org.id,
        "account_id": user.account_id,
        "account_type": user.account_type,
        "name": user.name,
        "email": user.email,
        "account_status": user.account_status,
        "membership_status": user.membership_status,
        "status": user.status,
        "claim_status": user.claim_status,
        "management_source": user.management_source,
        "platform_roles": list(user.platform_roles),
        "added_to_org_at": iso(user.added_to_org),
        "removed_at": iso(user.removed_at),
        "lifecycle_status": lifecycle,
        "latent_status": latent_status(user, latent_at, visible_at, policy),
        "persona": user.persona,
        "invited_at": iso(user.invited_at),
        "invited_by_account_id": user.invited_by,
        "accepted_at": iso(user.accepted_at),
        "has_invite_event": has_invite_event,
        "observed_invited_at": iso(observed_invited_at),
        "latent_last_active_at": iso(latent_at),
        "visible_last_active_at": iso(visible_at),
        "days_since_last_active": policy.days_since(visible_at),
        "seats": [
            _seat_truth(seat, user, seat in seats, lifecycle, observed_invited_at, policy)
            for seat in all_seats
        ],
    }


def _invite_events(world: WorldState, org: Org) -> dict[str, datetime]:
    """Per subject, the earliest invite the audit log has shown since the world started."""
    invites: dict[str, datetime] = dict(org.expired_invites)
    for event in world.audit_events(org.id):
        if event.action == "user_invited" and event.subject_account_id:
            known = invites.get(event.subject_account_id)
            if known is None or event.time < known:
                invites[event.subject_account_id] = event.time
    return invites


def _counts(users: list[dict[str, Any]], key: str, values: tuple[str, ...]) -> dict[str, int]:
    counts = dict.fromkeys(values, 0)
    for user in users:
        counts[user[key]] += 1
    return counts


def build_truth(
    world: WorldState,
    org_id: str | None = None,
    inactive_after_days: int = 90,
    new_user_grace_days: int = 30,
    invite_grace_days: int = 14,
) -> dict[str, Any]:
    """The truth at ``world.now`` for one org (or all), JSON-ready.

    Keys: ``now``, ``lag_hours``, ``activity_complete_through``, ``as_of_date``, ``policy``, ``orgs`` (per
    org: ``org_id``, ``name``, counts per lifecycle and latent status) and ``users`` (one entry per user of
    every org, current and removed, each with ``org_id``; see :func:`_user_truth` for the fields and
    ``seats`` per (product_key, site_id) with access or with activity).
    """
    policy = Policy(world.now, world.lag, inactive_after_days, new_user_grace_days, invite_grace_days)
    orgs = [world.orgs[org_id]] if org_id is not None else list(world.orgs.values())
    all_users: list[dict[str, Any]] = []
    summaries = []
    for org in orgs:
        seats_by_user = access_map(org)
        invites = _invite_events(world, org)
        org_users = [
            _user_truth(org, user, seats_by_user.get(user.account_id, set()), invites, policy)
            for user in org.users.values()
        ]
        org_users += [_user_truth(org, user, set(), invites, policy) for user in org.removed_users.values()]
        summaries.append(
            {
                "org_id": org.id,
                "name": org.name,
                "lifecycle_counts": _counts(org_users, "lifecycle_status", LIFECYCLE_STATUSES),
                "latent_counts": _counts(org_users, "latent_status", LATENT_STATUSES),
            }
        )
        all_users += org_users
    return {
        "now": iso(world.now),
        "lag_hours": world.config.lag_hours,
        "activity_complete_through": iso(policy.complete_through),
        "as_of_date": policy.as_of.isoformat(),
        "policy": {
            "inactive_after_days": inactive_after_days,
            "new_user_grace_days": new_user_grace_days,
            "invite_grace_days": invite_grace_days,
        },
        "orgs": summaries,
        "users": all_users,
    }
