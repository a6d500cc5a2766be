"""The simulated world: synthetic org(s) on a frozen clock that moves a whole day at a time.

Generation lives in ``generate.py``, the day-by-day evolution in ``evolve.py``, the ground truth in
``truth.py``. This class is the public face the HTTP layer and the tests use; see ``model.py`` for the data.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from pipeline.config.shared import AUDIT_RETENTION_DAYS
from pipeline.simulator import activity
from pipeline.simulator.access import access_map, seats_of, usage_counts
from pipeline.simulator.events import EVENT_ACTIONS
from pipeline.simulator.evolve import evolve_day
from pipeline.simulator.generate import generate_org
from pipeline.simulator.model import (
    AuditEvent,
    EventAction,
    Group,
    Org,
    SeatKey,
    SimulatorConfig,
    User,
)
from pipeline.simulator.truth import build_truth
from pipeline.simulator.writes import Writer


class World:
    """Deterministic synthetic Atlassian org(s): same config ⇒ the same world, day after day."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config if config is not None else SimulatorConfig()
        self.now: datetime = self.config.start
        self.api_key: str = self.config.api_key or _derived_api_key(self.config.seed)
        self.orgs: dict[str, Org] = {}
        for index in range(self.config.orgs):
            org = generate_org(self.config, index)
            self.orgs[org.id] = org
        self._events_cache: dict[str, tuple[AuditEvent, ...]] = {}
        # Bumped by every change (a day, a write, a control call): what caches of world views key on.
        self.revision = 0
        self.writes = Writer(self)
        for org in self.orgs.values():
            for user in org.users.values():
                user.lost_before_start = set(user.activity) - seats_of(org, user)
        # Events older than the audit log's retention at generation were never visible: drop them silently.
        self._prune(remember_invites=False)
        self._observe()

    # --- the clock ---------------------------------------------------------------------------------------

    @property
    def lag(self) -> timedelta:
        return timedelta(hours=self.config.lag_hours)

    @property
    def activity_complete_through(self) -> datetime:
        """``now - lag``: activity up to here is visible; anything later is not, yet."""
        return self.now - self.lag

    def advance(self, days: int) -> None:
        """Move the clock forward by whole days, evolving every org one day at a time.

        Each day draws from RNGs seeded by (seed, org, date), so advancing 3 days at once gives exactly the
        same world as advancing 1 + 1 + 1.
        """
        if days < 0:
            raise ValueError("the simulated clock only moves forward")
        for _ in range(days):
            day_start = self.now
            for org in self.orgs.values():
                evolve_day(org, self.config, day_start)
            self.now = day_start + timedelta(days=1)
            self._prune(remember_invites=True)
            self._observe()
        self.changed()

    def changed(self) -> None:
        """Note a change outside ``advance`` (the write endpoints): cached views are stale."""
        self.revision += 1
        self._events_cache.clear()

    def _prune(self, *, remember_invites: bool) -> None:
        cutoff = activity.epoch(self.activity_complete_through)
        oldest_kept = self.now - timedelta(days=AUDIT_RETENTION_DAYS)
        for org in self.orgs.values():
            for user in org.users.values():
                activity.prune(user, cutoff)
            if org.events and org.events[0].time < oldest_kept:
                expired = [event for event in org.events if event.time < oldest_kept]
                org.events = [event for event in org.events if event.time >= oldest_kept]
                if remember_invites:
                    for event in expired:
                        if event.action == "user_invited" and event.subject_account_id:
                            org.expired_invites.setdefault(event.subject_account_id, event.time)

    def _observe(self) -> None:
        """Record what the API shows now (see ``User.observed``); called once per simulated day."""
        cutoff = activity.epoch(self.activity_complete_through)
        for org in self.orgs.values():
            for user in org.users.values():
                if not user.activity:
                    continue
                held = seats_of(org, user)
                user.lost_before_start -= held
                for seat in held:
                    moment = activity.newest_at_or_before(user.activity.get(seat, []), cutoff)
                    if moment is not None and moment > user.observed.get(seat, -1):
                        user.observed[seat] = moment

    # --- lookups the HTTP layer serves -------------------------------------------------------------------

    def find_user(self, org_id: str, account_id: str) -> User | None:
        """A current (not removed) user of the org, or None."""
        return self.orgs[org_id].users.get(account_id)

    def visible_last_active(self, org_id: str, user: User) -> list[tuple[str, str, datetime]]:
        """(product_key, cloud_id, last_active_at) per seat the user has used and, unless the config's
        ``activity_after_removal`` is ``keep`` and the access ended after the world started, can access now.

        Lag applied: activity at T appears only once ``now >= T + lag``. With ``drop`` (the default), like
        Atlassian Administration's product list, a seat whose access ended is no longer shown; with ``keep``
        its last activity still is (an ex-seat). The listings of access (v1 users, the v2 ``productAccess``
        expand) show only seats held now either way. Sorted by (product_key, cloud_id).
        """
        cutoff = activity.epoch(self.activity_complete_through)
        access = seats_of(self.orgs[org_id], user)
        keep = self.config.activity_after_removal == "keep"
        shown = []
        for (product_key, cloud_id), stamps in user.activity.items():
            seat = (product_key, cloud_id)
            if seat not in access and (not keep or seat in user.lost_before_start):
                continue
            moment = activity.newest_at_or_before(stamps, cutoff)
            if moment is not None:
                shown.append((product_key, cloud_id, activity.from_epoch(moment)))
        return sorted(shown)

    def product_access(self, org_id: str, user: User) -> list[SeatKey]:
        """Seats the user can use now: ``atlassian/user`` grants of their groups plus direct access.

        Whatever the user's status: a suspended user keeps group memberships (and so the configuration),
        just not the use of them. Sorted by (product_key, cloud_id).
        """
        return sorted(seats_of(self.orgs[org_id], user))

    def user_groups(self, org_id: str, user: User) -> list[Group]:
        """The user's groups, in the org's group order."""
        return [group for group in self.orgs[org_id].groups.values() if user.account_id in group.members]

    def seat_usage(self, org_id: str) -> dict[SeatKey, int]:
        """Per seat, how many current users have access to it (a workspace's ``usage``)."""
        org = self.orgs[org_id]
        return usage_counts(org, access_map(org))

    def audit_events(self, org_id: str) -> tuple[AuditEvent, ...]:
        """Events the audit log holds now: processed by ``now``, at most 180 days old (by event time),
        sorted by (processed_at, id) as the events-stream serves them. Cached until the next advance."""
        cached = self._events_cache.get(org_id)
        if cached is None:
            oldest_kept = self.now - timedelta(days=AUDIT_RETENTION_DAYS)
            cached = tuple(
                sorted(
                    (
                        event
                        for event in self.orgs[org_id].events
                        if event.processed_at <= self.now and event.time >= oldest_kept
                    ),
                    key=lambda event: (event.processed_at, event.id),
                )
            )
            self._events_cache[org_id] = cached
        return cached

    def event_actions(self) -> list[EventAction]:
        """Every action key the simulator emits, with Atlassian-style display and group names."""
        return list(EVENT_ACTIONS.values())

    # --- ground truth ------------------------------------------------------------------------------------

    def truth(
        self,
        org_id: str | None = None,
        inactive_after_days: int = 90,
        new_user_grace_days: int = 30,
        invite_grace_days: int = 14,
    ) -> dict[str, Any]:
        """The ground truth at ``now`` (JSON-ready); see :func:`pipeline.simulator.truth.build_truth`."""
        return build_truth(
            self,
            org_id=org_id,
            inactive_after_days=inactive_after_days,
            new_user_grace_days=new_user_grace_days,
            invite_grace_days=invite_grace_days,
        )


def _derived_api_key(seed: int) -> str:
    return "sim-" + f"{random.Random(f'{seed}:api-key').getrandbits(128):032x}"
