"""One simulated day of an org: activity, invites, acceptances, status and access changes, audit events.

Every draw comes from RNGs seeded by (seed, org, the day's start, purpose), and the users are visited in
the org's order, so a day's outcome depends only on the state at its start: advancing 3 days at once equals
1 + 1 + 1. Per user the work is O(1): one draw for a possible change, one per used seat for activity.

Simplifications (documented because the truth inherits them): a user whose status or access changes on a
day does no product work that day, so no activity ever lands after a suspension, removal or revocation in
the same day; on the day of acceptance the acceptance is the only activity.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

from pipeline.simulator import activity
from pipeline.simulator.access import access_map, ensure_capacity, seats_of
from pipeline.simulator.events import group_site, login_event, make_event, subject_label
from pipeline.simulator.generate import ALL_STAFF, IDP_GROUP, SITE_ADMINS, rng_for
from pipeline.simulator.model import PRODUCT_NAMES, Group, Org, SeatKey, SimulatorConfig, Site, User
from pipeline.simulator.names import APP_NAMES
from pipeline.simulator.people import (
    DAILY_ACTIVITY,
    accept_delay,
    created_so_far,
    draw_persona,
    main_seat,
    new_person,
    span,
    uses_seat,
)

DAY = timedelta(days=1)
DAY_SECONDS = 86400
# Expected new accounts per day, as a share of the configured population (weekdays; weekends a tenth).
INVITES_PER_USER = 0.0012
SYNCS_PER_USER = 0.0003
NEVER_ACCEPT = 0.15
LOGIN_EVENT_SHARE = 0.003  # a sample of logins: one event per active user-day would swamp the log
FOR_DELETION_AFTER = timedelta(days=14)
PENDING_CANCEL_AFTER = timedelta(days=30)
SCIM_APP_NAME = APP_NAMES[1]

# Chance per day of each change, by the user's situation. One draw per user picks at most one.
ACTIVE_CHANGES = (
    ("suspend", 0.0004),
    ("deactivate", 0.0002),
    ("remove", 0.00008),
    ("join_group", 0.0006),
    ("leave_group", 0.0004),
    ("grant_direct", 0.0001),
    ("revoke_direct", 0.003),  # only for users with direct access
    ("drift", 0.0006),  # habits change: active people go dormant, dormant ones come back
)
DORMANT_DEACTIVATE = 0.001
PENDING_OLD_REMOVE = 0.0025  # with NEVER_ACCEPT, keeps pending invites near 5% over time
SUSPENDED_CHANGES = (("restore", 0.01), ("remove", 0.002))
DEACTIVATED_CHANGES = (("reactivate", 0.004), ("remove", 0.01))
CLOSED_REMOVE = 0.005


def poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _choose(draw: float, options: tuple[tuple[str, float], ...]) -> str | None:
    for name, chance in options:
        if draw < chance:
            return name
        draw -= chance
    return None


class _Day:
    def __init__(self, org: Org, config: SimulatorConfig, day_start: datetime) -> None:
        self.org = org
        self.config = config
        self.start = day_start
        self.end = day_start + DAY
        key = day_start.isoformat()
        self.activity_rng = rng_for(config, org.index, f"{key}:activity")
        self.change_rng = rng_for(config, org.index, f"{key}:changes")
        self.new_rng = rng_for(config, org.index, f"{key}:new-accounts")
        self.events_rng = rng_for(config, org.index, f"{key}:events")
        self.weekend = day_start.weekday() >= 5
        self.seats = access_map(org)
        users = list(org.users.values())
        self.users = users
        self.admins = [user for user in users if user.platform_roles and user.membership_status == "active"]
        scim = [user for user in users if user.account_type == "app" and user.name == SCIM_APP_NAME]
        self.scim = scim[0] if scim else self.admins[0]
        self.group_by_name = {group.name: group for group in org.groups.values()}
        self.site_by_cloud_id = {site.cloud_id: site for site in org.sites}
        self.joinable = [
            group
            for group in org.groups.values()
            if not group.is_external_synced and group.name != SITE_ADMINS
        ]

    # --- helpers -----------------------------------------------------------------------------------------

    def moment(self, rng: random.Random) -> datetime:
        return self.start + timedelta(seconds=rng.randrange(DAY_SECONDS))

    def event(
        self,
        action: str,
        at: datetime,
        message: str,
        subject: User,
        actor: User | None = None,
        site: Site | None = None,
    ) -> None:
        actor = actor or self.change_rng.choice(self.admins)
        self.org.events.append(make_event(self.events_rng, action, at, actor, message, subject, site))

    def site_of(self, group: Group) -> Site | None:
        return group_site(self.org, group)

    def refresh(self, user: User) -> None:
        seats = seats_of(self.org, user)
        if seats:
            self.seats[user.account_id] = seats
        else:
            self.seats.pop(user.account_id, None)

    # --- the day -----------------------------------------------------------------------------------------

    def run(self) -> None:
        for user in self.users:
            changed = self.change(user)
            if user.removed_at is not None:
                continue
            accepted_today = self.maybe_accept(user)
            if not changed and not accepted_today:
                self.work(user)
        self.new_accounts()
        ensure_capacity(self.org, self.seats)

    def maybe_accept(self, user: User) -> bool:
        """First use of a product at the planned moment, if the user still can; otherwise never."""
        if (
            user.accepted_at is not None
            or user.accept_at is None
            or not self.start <= user.accept_at < self.end
        ):
            return False
        seats = self.seats.get(user.account_id)
        if not seats or user.account_status != "active" or user.membership_status != "active":
            user.accept_at = None
            return False
        user.accepted_at = user.accept_at
        user.email_verified = True
        main = main_seat(user, seats)
        activity.record(user, main, activity.epoch(user.accepted_at))
        # Accepting an invite means signing in: every acceptance leaves a login in the audit log.
        site = self.site_by_cloud_id[main[1]]
        self.org.events.append(login_event(self.events_rng, user, user.accepted_at, site))
        return True

    def work(self, user: User) -> None:
        chances = DAILY_ACTIVITY.get(user.persona)
        seats = self.seats.get(user.account_id)
        if chances is None or not seats or not user.can_be_active():
            return
        chance = chances[1] if self.weekend else chances[0]
        rng = self.activity_rng
        main = main_seat(user, seats)
        first_visit: tuple[datetime, SeatKey] | None = None
        for seat in sorted(seats):
            if uses_seat(user, seat, main) and rng.random() < chance:
                moment = self.start + timedelta(seconds=rng.randrange(DAY_SECONDS))
                activity.record(user, seat, activity.epoch(moment))
                first_visit = min(first_visit or (moment, seat), (moment, seat))
        if first_visit is not None and rng.random() < LOGIN_EVENT_SHARE:
            moment, seat = first_visit
            site = self.site_by_cloud_id[seat[1]]
            self.org.events.append(login_event(self.events_rng, user, moment, site))

    def change(self, user: User) -> bool:
        """At most one change of status or access today; True when one happened."""
        draw = self.change_rng.random()
        if user.account_type != "atlassian" or user.platform_roles:
            return False
        if user.account_status == "closed":
            name = "remove" if draw < CLOSED_REMOVE else None
        elif user.for_deletion:
            # A scheduled deletion goes through after two weeks: the account leaves the directory.
            name = "remove" if self.start >= user.deactivated_on + FOR_DELETION_AFTER else None
        elif user.account_status == "inactive":
            name = _choose(draw, DEACTIVATED_CHANGES)
        elif user.membership_status == "suspended":
            name = _choose(draw, SUSPENDED_CHANGES)
        elif user.membership_status == "no_membership":
            name = None
        elif (
            user.accepted_at is None
            and user.invited_at
            and self.start - user.invited_at > PENDING_CANCEL_AFTER
        ):
            name = "remove" if draw < PENDING_OLD_REMOVE else None  # admins cancel stale invites
        elif user.persona == "dormant" and draw < DORMANT_DEACTIVATE:
            name = "deactivate"
        else:
            name = _choose(draw, ACTIVE_CHANGES)
        if name is None:
            return False
        return getattr(self, f"_{name}")(user)

    # --- the changes (each returns whether anything happened) --------------------------------------------

    def _suspend(self, user: User) -> bool:
        at = self.moment(self.change_rng)
        user.membership_status = "suspended"
        user.suspended_at = at
        self.event("user_access_suspended", at, f"Suspended access for {subject_label(user)}", user)
        return True

    def _restore(self, user: User) -> bool:
        at = self.moment(self.change_rng)
        user.membership_status = "active"
        user.suspended_at = None
        self.event("user_access_restored", at, f"Restored access for {subject_label(user)}", user)
        return True

    def _deactivate(self, user: User) -> bool:
        at = self.moment(self.change_rng)
        user.account_status = "inactive"
        user.deactivated_on = at
        self.event("account_deactivated", at, f"Deactivated account of {subject_label(user)}", user)
        return True

    def _reactivate(self, user: User) -> bool:
        at = self.moment(self.change_rng)
        user.account_status = "active"
        user.deactivated_on = None
        self.event("account_reactivated", at, f"Reactivated account of {subject_label(user)}", user)
        return True

    def _remove(self, user: User) -> bool:
        at = self.moment(self.change_rng)
        user.removed_at = at
        for group in self.org.groups.values():
            group.members.discard(user.account_id)
        del self.org.users[user.account_id]
        self.org.removed_users[user.account_id] = user
        self.seats.pop(user.account_id, None)
        self.event("user_removed_from_directory", at, f"Removed {subject_label(user)} from directory", user)
        return True

    def _join_group(self, user: User) -> bool:
        options = [group for group in self.joinable if user.account_id not in group.members]
        if not options:
            return False
        group = self.change_rng.choice(options)
        at = self.moment(self.change_rng)
        group.members.add(user.account_id)
        self.refresh(user)
        message = f"Added user {subject_label(user)} to group {group.name}"
        self.event("user_added_to_group", at, message, user, site=self.site_of(group))
        return True

    def _leave_group(self, user: User) -> bool:
        options = [group for group in self.joinable if user.account_id in group.members]
        if not options:
            return False
        group = self.change_rng.choice(options)
        at = self.moment(self.change_rng)
        group.members.discard(user.account_id)
        self.refresh(user)
        message = f"Removed user {subject_label(user)} from group {group.name}"
        self.event("user_removed_from_group", at, message, user, site=self.site_of(group))
        return True

    def _grant_direct(self, user: User) -> bool:
        seat = self.change_rng.choice(self.org.workspaces).seat
        if seat in user.direct_access:
            return False
        user.direct_access.add(seat)
        self.refresh(user)
        self._role_event("user_granted_role", "Granted", "to", user, seat)
        return True

    def _revoke_direct(self, user: User) -> bool:
        if not user.direct_access:
            return False
        seat = self.change_rng.choice(sorted(user.direct_access))
        user.direct_access.discard(seat)
        self.refresh(user)
        self._role_event("user_revoked_role", "Revoked", "from", user, seat)
        return True

    def _role_event(self, action: str, verb: str, preposition: str, user: User, seat: SeatKey) -> None:
        product, cloud_id = seat
        site = next(site for site in self.org.sites if site.cloud_id == cloud_id)
        at = self.moment(self.change_rng)
        message = (
            f"{verb} {PRODUCT_NAMES[product]} user role on {site.name} {preposition} {subject_label(user)}"
        )
        self.event(action, at, message, user, site=site)

    def _drift(self, user: User) -> bool:
        """Habits change silently (no event), so this does not count as a change of the day."""
        if user.persona == "dormant":
            user.persona = "weekly"
        elif user.persona in ("daily", "weekly", "monthly"):
            user.persona = "dormant"
        return False

    # --- new accounts ------------------------------------------------------------------------------------

    def new_accounts(self) -> None:
        rng = self.new_rng
        scale = 0.1 if self.weekend else 1.0
        for _ in range(poisson(rng, self.config.users * INVITES_PER_USER * scale)):
            self.invite(rng)
        for _ in range(poisson(rng, self.config.users * SYNCS_PER_USER * scale)):
            self.provision(rng)

    def invite(self, rng: random.Random) -> None:
        """An admin invites someone and puts them in a group that grants a product."""
        unmanaged = rng.random() < 0.07
        hidden = unmanaged and rng.random() < 0.3
        at = self.moment(rng)
        user = new_person(
            self.org, rng, created_so_far(self.org), at, unmanaged=unmanaged, hidden_email=hidden
        )
        inviter = rng.choice(self.admins)
        user.management_source = None if unmanaged else "invited"
        user.invited_at = at
        user.invited_by = inviter.account_id
        user.email_verified = False
        user.persona = draw_persona(rng, may_be_never=False)
        user.accept_at = None if rng.random() < NEVER_ACCEPT else at + accept_delay(rng)
        if rng.random() < 0.5:
            group = self.group_by_name[ALL_STAFF]
        else:
            group = rng.choice([group for group in self.joinable if group.product_seats()])
        self.org.users[user.account_id] = user
        group.members.add(user.account_id)
        self.refresh(user)
        label = subject_label(user)
        site = self.site_of(group)
        self.event("user_invited", at, f"Invited user {label}", user, actor=inviter, site=site)
        added = at + span(seconds=rng.uniform(1, 30))
        self.event(
            "user_added_to_group", added, f"Added user {label} to group {group.name}", user, inviter, site
        )
        self.maybe_accept(user)

    def provision(self, rng: random.Random) -> None:
        """The IdP (SCIM) creates an account and puts it in the synced group."""
        at = self.moment(rng)
        user = new_person(self.org, rng, created_so_far(self.org), at)
        user.management_source = "synced"
        user.persona = draw_persona(rng, may_be_never=True)
        user.accept_at = None if user.persona == "never" else at + accept_delay(rng)
        group = self.group_by_name[IDP_GROUP]
        self.org.users[user.account_id] = user
        group.members.add(user.account_id)
        self.refresh(user)
        label = subject_label(user)
        self.event("user_created", at, f"Created user {label}", user, actor=self.scim)
        message = f"Added user {label} to group {group.name}"
        self.event("user_added_to_group", at, message, user, actor=self.scim, site=self.site_of(group))
        self.maybe_accept(user)


def evolve_day(org: Org, config: SimulatorConfig, day_start: datetime) -> None:
    """Evolve ``org`` over [day_start, day_start + 1 day)."""
    _Day(org, config, day_start).run()
