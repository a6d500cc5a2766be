"""What the Admin API's write endpoints do to the world: group memberships, suspend and restore.

Each change happens at the simulated ``now``, leaves the audit event the same change leaves when an admin
makes it (``user_removed_from_group``, ``user_added_to_group``, ``user_access_suspended``,
``user_access_restored``), acted by the API key's owner, and is processed at once (the clock is frozen
between advances, so an event processed later than ``now`` would stay invisible until the next advance).
Product access is derived from group grants (``access.py``), so removing a membership takes away exactly the
access no other group or direct grant still gives. Org-level roles (``User.platform_roles``: org admin,
site admin) are not group grants, so no membership change touches them, as documented for the v2 API.

Refusals raise :class:`LimitReached`, :class:`NotAllowed` or :class:`NotFound`; the HTTP layer
(``api_writes.py``) turns them into the API's error bodies. Documented vs assumed: docs/write-endpoints.md.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from pipeline.simulator import activity
from pipeline.simulator.access import access_map, seats_of
from pipeline.simulator.events import group_site, make_event, subject_label
from pipeline.simulator.model import (
    CONTRACT_PRODUCT_KEYS,
    ORG_ADMIN,
    V2_PRODUCT_KEYS,
    Group,
    Org,
    SeatKey,
    User,
    WorldState,
)


class WriteRefused(Exception):
    """A write the API refuses; ``detail`` is the sentence its error body carries."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(WriteRefused):
    """``detail`` names what was not found ("The membership of ..."), without the verb."""


class NotAllowed(WriteRefused):
    """The group is synced from an identity provider: its members are managed there."""


class LimitReached(WriteRefused):
    """A product the change would grant has no free seat under its user limit."""


@dataclass(frozen=True, slots=True)
class WriteRecord:
    """One write request the API answered (refusals included), in arrival order: what a test counts."""

    at: datetime
    org_id: str
    action: str  # remove_group_member | add_group_member | suspend_user | restore_user
    account_id: str
    group_id: str | None
    status: int  # the HTTP status of the API's answer (204 when carried out, even if the answer was lost)
    changed: bool  # False for a refusal, or a no-op (already a member, already suspended, ...)
    request_id: str
    answer_lost: bool = False  # carried out, but the client got 504 or a dropped connection (faults.py)


def key_owner(org: Org) -> User:
    """Who acts for the API key in the audit log: the org admin who created it (the first one).

    Assumed: the audit log names the key's creator as the actor of API-key changes.
    """
    admins = [user for user in org.users.values() if ORG_ADMIN in user.platform_roles]
    return admins[0] if admins else next(iter(org.users.values()))


def _billable(user: User) -> bool:
    """Who counts against a product's user limit: suspended, deactivated and removed users are not billed."""
    return user.status == "active" and user.removed_at is None


def _check_limit(org: Org, user: User, seats: set[SeatKey]) -> None:
    """Refuse when any of ``seats`` (seats the change would make billable for ``user``) is full."""
    if not seats:
        return
    usage: dict[SeatKey, int] = {}
    for account_id, held in access_map(org).items():
        other = org.users.get(account_id)
        if other is None or other is user or not _billable(other):
            continue
        for seat in held & seats:
            usage[seat] = usage.get(seat, 0) + 1
    for workspace in org.workspaces:
        if workspace.seat in seats and usage.get(workspace.seat, 0) >= workspace.capacity:
            product, cloud_id = workspace.seat
            raise LimitReached(
                f"The user limit of {product} on site {cloud_id} ({workspace.capacity}) is reached. "
                "Increase your user limit or suspend another user from the app first."
            )


class Writer:
    """The world's write side (``World.writes``): the four changes, their events, the write log, and the
    product use a test adds through the control endpoint."""

    def __init__(self, world: WorldState) -> None:
        self.world = world
        self.log: list[WriteRecord] = []
        self._events_made = 0

    # --- the changes (each returns whether anything changed) ---------------------------------------------

    def remove_member(self, org: Org, group: Group, user: User) -> bool:
        self._check_managed(group)
        if user.account_id not in group.members:
            raise NotFound(f"The membership of the user {user.account_id} in the group {group.id}")
        group.members.discard(user.account_id)
        label = subject_label(user)
        self._event(
            org, "user_removed_from_group", f"Removed user {label} from group {group.name}", user, group
        )
        return True

    def add_member(self, org: Org, group: Group, user: User) -> bool:
        self._check_managed(group)
        if user.account_id in group.members:
            return False  # already a member: nothing to do, nothing to log (assumed; the docs are silent)
        if _billable(user):
            _check_limit(org, user, set(group.product_seats()) - seats_of(org, user))
        group.members.add(user.account_id)
        label = subject_label(user)
        self._event(org, "user_added_to_group", f"Added user {label} to group {group.name}", user, group)
        return True

    def suspend(self, org: Org, user: User) -> bool:
        if user.membership_status == "suspended":
            return False
        user.membership_status = "suspended"
        user.suspended_at = self.world.now
        self._event(org, "user_access_suspended", f"Suspended access for {subject_label(user)}", user)
        return True

    def restore(self, org: Org, user: User) -> bool:
        if user.membership_status != "suspended":
            return False
        # Restoring makes the user billable again: their products need free seats (assumed, like an add).
        if user.account_status == "active" and not user.for_deletion:
            _check_limit(org, user, seats_of(org, user))
        user.membership_status = "active"
        user.suspended_at = None
        self._event(org, "user_access_restored", f"Restored access for {subject_label(user)}", user)
        return True

    # --- activity (control endpoint) ---------------------------------------------------------------------

    def record_activity(
        self, org: Org, user: User, product: str, at: datetime, cloud_id: str | None
    ) -> SeatKey:
        """Product use by ``user`` at ``at`` on one of their seats of ``product`` (any of its keys)."""
        seats = sorted(
            seat
            for seat in seats_of(org, user)
            if product in product_names(seat[0]) and cloud_id in (None, seat[1])
        )
        if not seats:
            raise WriteRefused(f"The user {user.account_id} has no access to {product}; grant it first.")
        seat = seats[0]
        moment = activity.epoch(at)
        activity.record(user, seat, moment)
        if user.accepted_at is None:
            user.accepted_at = at  # first use of a product is what accepting an invite means
            user.accept_at = at
            user.email_verified = True
        if moment <= activity.epoch(self.world.activity_complete_through):
            user.observed[seat] = max(user.observed.get(seat, moment), moment)
        self.world.changed()
        return seat

    # --- helpers -----------------------------------------------------------------------------------------

    def record(self, record: WriteRecord) -> None:
        self.log.append(record)

    def _check_managed(self, group: Group) -> None:
        if group.is_external_synced:
            raise NotAllowed(
                f"The group {group.id} is synced from an identity provider; change its members there."
            )

    def _event(self, org: Org, action: str, message: str, user: User, group: Group | None = None) -> None:
        now = self.world.now
        rng = random.Random(f"{self.world.config.seed}:{org.index}:writes:{self._events_made}")
        site = group_site(org, group) if group is not None else None
        event = make_event(rng, action, now, key_owner(org), message, user, site)
        # Processed at once, and with ids that grow with each write: several writes share one frozen `now`,
        # and the events-stream orders by (processedAt, id), so a later write must sort after an earlier one.
        ordered_id = str(
            uuid.UUID(int=(0xF << 124) | (self._events_made << 80) | rng.getrandbits(80), version=4)
        )
        org.events.append(replace(event, id=ordered_id, processed_at=now))
        self._events_made += 1
        self.world.changed()


def product_names(product_key: str) -> set[str]:
    """Every name a world product goes by: its v1 key, its v2 key and the data contract's key."""
    return {product_key, V2_PRODUCT_KEYS[product_key], CONTRACT_PRODUCT_KEYS[product_key]}
