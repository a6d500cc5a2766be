"""Audit-log action catalogue and the one place audit events are made.

Keys: the confirmed ones where Atlassian's are known (``user_granted_role``, ``user_revoked_role``,
``user_login``, ``group_created``, ``user_created``) and synthetic ones for the rest. Display names follow
the style of Atlassian's audit-log activity names so that display-name matching (the dbt fallback for
unknown keys) works on them too.
"""

from __future__ import annotations

import random
import uuid
import zlib
from datetime import datetime, timedelta

from pipeline.simulator.model import AuditEvent, EventAction, Group, Org, Site, User
from pipeline.simulator.names import LOCATIONS

_USERS = "User management"
_GROUPS = "Group management"
_ACCOUNTS = "Atlassian accounts"

EVENT_ACTIONS: dict[str, EventAction] = {
    action.key: action
    for action in (
        EventAction("user_invited", "Invited user", _USERS),
        EventAction("user_created", "Created user", _USERS),
        EventAction("user_access_suspended", "Suspended user access", _USERS),
        EventAction("user_access_restored", "Restored user access", _USERS),
        EventAction("user_removed_from_directory", "Removed user from directory", _USERS),
        EventAction("user_granted_role", "Granted role", _USERS),
        EventAction("user_revoked_role", "Revoked role", _USERS),
        EventAction("account_deactivated", "Deactivated account", _ACCOUNTS),
        EventAction("account_reactivated", "Reactivated account", _ACCOUNTS),
        EventAction("user_login", "Logged in to account", _ACCOUNTS),
        EventAction("group_created", "Created group", _GROUPS),
        EventAction("user_added_to_group", "Added user to group", _GROUPS),
        EventAction("user_removed_from_group", "Removed user from group", _GROUPS),
    )
}

# Share of events the audit log takes in hours late instead of seconds to minutes.
LATE_SHARE = 0.02


def processing_delay(rng: random.Random) -> timedelta:
    if rng.random() < LATE_SHARE:
        return timedelta(seconds=rng.randrange(3600, 8 * 3600))
    return timedelta(seconds=min(900, 1 + int(rng.expovariate(1 / 40))))


def subject_label(user: User) -> str:
    """How messages name a user: the email, or the name when the email is hidden."""
    return user.email or user.name


def group_site(org: Org, group: Group) -> Site | None:
    """The site an event about ``group`` names: the first site the group grants something on."""
    cloud_ids = {cloud_id for _, cloud_id, _ in group.grants}
    return next((site for site in org.sites if site.cloud_id in cloud_ids), None)


def login_event(rng: random.Random, user: User, first_use: datetime, site: Site | None) -> AuditEvent:
    """A login shortly before a product visit; the user is both actor and subject."""
    at = first_use - timedelta(seconds=rng.randrange(5, 120))
    return make_event(rng, "user_login", at, user, f"Logged in as {subject_label(user)}", user, site)


def make_event(
    rng: random.Random,
    action: str,
    at: datetime,
    actor: User,
    message: str,
    subject: User | None = None,
    site: Site | None = None,
) -> AuditEvent:
    """An audit event; the actor's location is stable per actor so that IP/country analysis looks sane."""
    if action not in EVENT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    spot = zlib.crc32(actor.account_id.encode())
    city, country = LOCATIONS[spot % len(LOCATIONS)]
    return AuditEvent(
        id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        time=at,
        processed_at=at + processing_delay(rng),
        action=action,
        actor_id=actor.account_id,
        actor_name=actor.name,
        actor_email=actor.email,
        subject_account_id=subject.account_id if subject else None,
        subject_email=subject.email if subject else None,
        subject_name=subject.name if subject else None,
        cloud_id=site.cloud_id if site else None,
        site_host=site.host_url if site else None,
        ip=f"203.0.113.{spot % 254 + 1}",
        country=country,
        city=city,
        message=message,
    )
