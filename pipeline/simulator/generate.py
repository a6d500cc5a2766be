"""Generate one org as it stands at ``config.start``, with up to ~2 years of pre-history.

Deterministic: every random draw comes from ``random.Random(f"{seed}:{org_index}:{purpose}")``. The lag is
not an input (except beyond a week), so worlds that differ only in ``lag_hours`` hold identical activity and
differ only in what is visible.
"""

from __future__ import annotations

import random
import string
from datetime import datetime, timedelta

from pipeline.config.shared import AUDIT_RETENTION_DAYS
from pipeline.simulator import activity
from pipeline.simulator.access import access_map, ensure_capacity
from pipeline.simulator.events import login_event, make_event, subject_label
from pipeline.simulator.model import (
    ORG_ADMIN,
    PRODUCT_NAMES,
    PRODUCTS,
    ROLE_ADMIN,
    ROLE_USER,
    SITE_ADMIN,
    Directory,
    Group,
    Org,
    SeatKey,
    SimulatorConfig,
    Site,
    User,
    Workspace,
)
from pipeline.simulator.names import ORG_NAMES, ascii_slug
from pipeline.simulator.people import (
    accept_delay,
    draw_persona,
    main_seat,
    new_app,
    new_person,
    new_uuid,
    span,
    uses_seat,
)

HISTORY_DAYS = 730
# Pre-history activity is laid down this far back in detail, so that any lag up to a week shows the right
# "newest visible" entry without the lag changing what was generated.
DETAILED_HISTORY = timedelta(days=7)
SECOND_SITE_FROM_USERS = 200
TEAM_GROUPS = ("engineering", "marketing", "finance", "support-team", "design")
ALL_STAFF = "all-staff"
SITE_ADMINS = "site-admins"
IDP_GROUP = "okta-employees"
SCIM_APP = 1  # index among the org's apps of the IdP provisioning app (APP_NAMES[1])

# How far back (days before the end of someone's active life) their newest activity lies, by persona.
RECENCY = {
    "daily": lambda rng: min(6.0, rng.expovariate(1 / 0.7)),
    "weekly": lambda rng: rng.uniform(0, 10),
    "monthly": lambda rng: rng.uniform(0, 45),
    "rare": lambda rng: rng.uniform(30, 300),
    "dormant": lambda rng: rng.uniform(91, 700),
}
# Typical days between two visits, for filling in the recent past.
GAP_DAYS = {"daily": 1.2, "weekly": 5.0, "monthly": 20.0, "rare": 60.0, "dormant": 90.0}


def rng_for(config: SimulatorConfig, org_index: int, purpose: str) -> random.Random:
    return random.Random(f"{config.seed}:{org_index}:{purpose}")


def org_id(rng: random.Random) -> str:
    """UUID-shaped but not a strict UUID: real org ids carry letters beyond hex (e.g. ``…-jjk7-…``)."""
    alphabet = string.digits + string.ascii_lowercase
    chars = [rng.choice(alphabet) for _ in range(32)]
    chars[rng.randrange(32)] = rng.choice("ghijklmnopqrstuvwxyz")
    text = "".join(chars)
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def plan_population(users: int) -> list[str]:
    """The kinds of account to create, special kinds first so that tiny worlds still get an admin."""

    def share(fraction: float, minimum: int) -> int:
        return max(minimum, round(users * fraction))

    plan = (
        ["org_admin"] * min(5, share(0.004, 2))
        + ["site_admin"] * min(12, share(0.006, 2))
        + ["app"] * share(0.01, 3)
        + ["customer"] * share(0.006, 2)
        + ["pending"] * share(0.05, 3)
        + ["suspended"] * share(0.02, 2)
        + ["deactivated"] * share(0.02, 2)
        + ["for_deletion"] * share(0.004, 1)
        + ["closed"] * share(0.005, 1)
        + ["not_invited"] * share(0.01, 2)
    )
    return plan[:users] + ["regular"] * (users - len(plan))


class _Generator:
    def __init__(self, config: SimulatorConfig, index: int) -> None:
        self.config = config
        self.index = index
        self.start = config.start
        self.org_created = self.start - timedelta(days=HISTORY_DAYS + 20)
        self.rng = rng_for(config, index, "people")
        self.events_rng = rng_for(config, index, "events")
        self.detail_from = self.start - max(DETAILED_HISTORY, timedelta(hours=config.lag_hours))
        self.admins: list[User] = []
        self.apps: list[User] = []

    # --- structure ---------------------------------------------------------------------------------------

    def org(self) -> Org:
        rng = rng_for(self.config, self.index, "org")
        base = ORG_NAMES[self.index % len(ORG_NAMES)]
        round_ = self.index // len(ORG_NAMES)
        name = base + (f" {round_ + 1}" if round_ else "")
        slug = ascii_slug(base.split()[0]) + (str(round_ + 1) if round_ else "")
        org = Org(id=org_id(rng), name=name, index=self.index, domain=f"{slug}.com")
        org.directories.append(Directory(id=new_uuid(rng), name=f"{name} directory"))
        org.sites.append(Site(new_uuid(rng), slug, PRODUCTS, self.org_created))
        if self.config.users >= SECOND_SITE_FROM_USERS:
            # Not every product on every site: the second site has no service desk.
            second_created = self.org_created + timedelta(days=120)
            org.sites.append(Site(new_uuid(rng), f"{slug}-labs", PRODUCTS[:2], second_created))
        for site in org.sites:
            for product in site.products:
                org.workspaces.append(Workspace(site.ari(product), product, site, 0, site.created_at))
        self._groups(org, rng)
        return org

    def _groups(self, org: Org, rng: random.Random) -> None:
        directory_id = org.directories[0].id
        first_site = org.sites[0]

        def add(name: str, description: str | None, grants=(), synced=False, created=None) -> None:
            group = Group(
                id=new_uuid(rng),
                directory_id=directory_id,
                name=name,
                description=description,
                is_external_synced=synced,
                managed_by="external" if synced else "admins",
                created_at=created or self.org_created + span(days=rng.uniform(0, 3)),
                grants=list(grants),
            )
            org.groups[group.id] = group

        add(
            SITE_ADMINS,
            "Administers every product on every site",
            [(product, site.cloud_id, ROLE_ADMIN) for site in org.sites for product in site.products],
        )
        for site in org.sites:
            for product in site.products:
                add(
                    f"{product}-users-{site.name}",
                    f"Grants access to {PRODUCT_NAMES[product]} on {site.name}",
                    [(product, site.cloud_id, ROLE_USER)],
                    created=site.created_at + span(days=rng.uniform(0, 3)),
                )
        add(
            ALL_STAFF,
            "Everyone: Jira Software and Confluence on the main site",
            [(product, first_site.cloud_id, ROLE_USER) for product in ("jira-software", "confluence")],
        )
        add(
            IDP_GROUP,
            "Synced from Okta",
            [("jira-software", first_site.cloud_id, ROLE_USER)],
            synced=True,
            created=self.start - timedelta(days=600),
        )
        for number, team in enumerate(TEAM_GROUPS):
            # The last team group is recent, so the audit log holds a group_created event.
            created = self.start - timedelta(days=40) if number == len(TEAM_GROUPS) - 1 else None
            add(team, f"The {team.replace('-', ' ')} team", created=created)

    # --- people ------------------------------------------------------------------------------------------

    def populate(self, org: Org) -> None:
        groups = {group.name: group for group in org.groups.values()}
        kinds = plan_population(self.config.users)
        made: list[User] = []
        for k, kind in enumerate(kinds):
            user = self._make(org, groups, k, kind)
            made.append(user)
        made.sort(key=lambda user: user.added_to_org)
        for user in made:
            org.users[user.account_id] = user
        seats = access_map(org)
        for user in made:
            self._history(user, seats.get(user.account_id, set()), org)
        ensure_capacity(org, seats)
        self._events(org, made, groups, seats)

    def _make(self, org: Org, groups: dict[str, Group], k: int, kind: str) -> User:
        rng = self.rng
        if kind == "app":
            user = new_app(rng, len(self.apps), self.org_created + span(days=rng.uniform(5, 400)))
            self.apps.append(user)
            if rng.random() < 0.5:
                groups[f"jira-software-users-{org.sites[0].name}"].members.add(user.account_id)
            return user
        if kind == "customer":
            return new_person(org, rng, k, self._past(rng), customer=True)
        if kind in ("org_admin", "site_admin"):
            return self._admin(org, groups, k, kind)
        if kind == "not_invited":
            user = new_person(org, rng, k, self._past(rng))
            user.membership_status = "no_membership"
            return user
        unmanaged = rng.random() < 0.07
        hidden = rng.random() < (0.3 if unmanaged else 0.01)
        synced = kind != "pending" and not unmanaged and rng.random() < 0.3
        user = new_person(org, rng, k, self._past(rng), unmanaged=unmanaged, hidden_email=hidden)
        if synced:
            user.management_source = "synced"
            user.added_to_org = self.start - span(days=600 * rng.random() ** 1.25)
            groups[IDP_GROUP].members.add(user.account_id)
        else:
            self._invite(user, unmanaged, kind == "pending")
        user.persona = draw_persona(rng, may_be_never=synced)
        if kind == "pending":
            self._still_pending(user)
        elif user.persona != "never":
            first_use = user.added_to_org + accept_delay(rng)
            user.accept_at = first_use
            if first_use <= self.start:
                user.accepted_at = first_use
        if user.persona == "dormant" and (
            user.accepted_at is None or user.accepted_at > self.start - timedelta(days=120)
        ):
            user.persona = "rare"  # too new to have been idle for months
        self._grant(user, org, groups, synced, pending=kind == "pending")
        self._lifecycle(user, kind)
        if user.invited_at is not None and user.accepted_at is None:
            user.email_verified = False  # nobody has followed the invite link yet
        return user

    def _admin(self, org: Org, groups: dict[str, Group], k: int, kind: str) -> User:
        rng = self.rng
        user = new_person(org, rng, k, self.org_created + span(days=rng.uniform(0, 10)))
        if self.admins:
            user.management_source = "invited"
            user.invited_at = user.added_to_org
            user.invited_by = self.admins[0].account_id
        user.platform_roles = [ORG_ADMIN if kind == "org_admin" else SITE_ADMIN]
        user.mfa_enabled = True
        user.persona = "daily"
        user.accept_at = user.accepted_at = user.added_to_org + span(hours=rng.uniform(0.5, 6))
        groups[ALL_STAFF].members.add(user.account_id)
        if kind == "site_admin":
            groups[SITE_ADMINS].members.add(user.account_id)
        self.admins.append(user)
        return user

    def _past(self, rng: random.Random) -> datetime:
        """A join time skewed to recent months (the org grew), never before the org existed."""
        return self.start - span(days=HISTORY_DAYS * rng.random() ** 1.25)

    def _invite(self, user: User, unmanaged: bool, pending: bool) -> None:
        rng = self.rng
        if pending:
            # Pending invites: half recent, the rest weeks to months old.
            band = rng.random()
            low, high = (0, 14) if band < 0.5 else (15, 90) if band < 0.85 else (90, 400)
            user.added_to_org = self.start - span(days=rng.uniform(low, high))
        # Unmanaged accounts carry no managementSource: only the invite event tells that they were invited.
        user.management_source = None if unmanaged else "invited"
        user.invited_at = user.added_to_org
        user.invited_by = rng.choice(self.admins).account_id

    def _still_pending(self, user: User) -> None:
        """A pending invite: some recent ones will still be accepted after ``start``, most never."""
        rng = self.rng
        recent = self.start - user.invited_at < timedelta(days=14)
        if rng.random() < (0.35 if recent else 0.05):
            user.accept_at = self.start + span(hours=rng.uniform(2, 240))

    def _grant(self, user: User, org: Org, groups: dict[str, Group], synced: bool, pending: bool) -> None:
        rng = self.rng
        if synced:
            if rng.random() < 0.5:
                groups[ALL_STAFF].members.add(user.account_id)
        elif rng.random() < (0.5 if pending else 0.55):
            groups[ALL_STAFF].members.add(user.account_id)
        else:
            for _ in range(1 if pending or rng.random() < 0.7 else 2):
                groups[self._product_group(org, rng)].members.add(user.account_id)
        if pending:
            return
        if user.department == "Support" and rng.random() < 0.6:
            groups[f"jira-service-desk-users-{org.sites[0].name}"].members.add(user.account_id)
        if rng.random() < 0.7:
            groups[rng.choice(TEAM_GROUPS)].members.add(user.account_id)
        if rng.random() < 0.03:
            user.direct_access.add(rng.choice(org.workspaces).seat)

    @staticmethod
    def _product_group(org: Org, rng: random.Random) -> str:
        product = rng.choices(PRODUCTS, weights=(50, 35, 15))[0]
        sites = [site for site in org.sites if product in site.products]
        site = sites[0] if len(sites) == 1 or rng.random() < 0.75 else sites[1]
        return f"{product}-users-{site.name}"

    def _lifecycle(self, user: User, kind: str) -> None:
        """Special statuses, each dated after the user's first use (if any)."""
        rng = self.rng
        if kind not in ("suspended", "deactivated", "for_deletion", "closed"):
            return
        if user.accepted_at is None:
            user.accept_at = None  # lost access before ever using it: never will now
        earliest = max(user.accepted_at or user.added_to_org, self.start - timedelta(days=400))
        seconds = (self.start - earliest).total_seconds()
        if kind == "for_deletion":
            seconds = min(seconds, 13 * 86400.0)
        moment = self.start - span(seconds=seconds * rng.uniform(0.02, 0.98))
        if kind == "suspended":
            user.membership_status = "suspended"
            user.suspended_at = moment
        elif kind == "closed":
            user.account_status = "closed"
            user.deactivated_on = moment
        else:
            user.account_status = "inactive"
            user.deactivated_on = moment
            user.for_deletion = kind == "for_deletion"

    # --- pre-history activity ----------------------------------------------------------------------------

    def _history(self, user: User, seats: set[SeatKey], org: Org) -> None:
        if user.accepted_at is None or user.persona == "never":
            return
        rng = self.rng
        horizon = min(self.start, user.suspended_at or self.start, user.deactivated_on or self.start)
        main = main_seat(user, seats)
        if main is None:
            return
        for seat in sorted(seats):
            if uses_seat(user, seat, main):
                self._seat_history(user, seat, horizon, rng, first=seat == main)
        if rng.random() < 0.03:
            # Used a product they have since lost: its last-active stays visible.
            lost = [workspace.seat for workspace in org.workspaces if workspace.seat not in seats]
            if lost:
                moment = max(user.accepted_at, horizon - timedelta(days=rng.uniform(100, 400)))
                activity.record(user, rng.choice(lost), activity.epoch(moment))

    def _seat_history(
        self, user: User, seat: SeatKey, horizon: datetime, rng: random.Random, first: bool
    ) -> None:
        accepted = user.accepted_at
        latest = horizon - timedelta(days=RECENCY[user.persona](rng))
        if latest < accepted:
            latest = accepted + (horizon - accepted) * rng.random()
        moments = [latest]
        moment = latest
        while moment > self.detail_from:
            moment -= timedelta(days=GAP_DAYS[user.persona] * rng.uniform(0.5, 1.5))
            if moment <= accepted:
                if first:
                    moments.append(accepted)  # the very first use was on the main seat
                break
            moments.append(moment)
        for moment in moments:
            activity.record(user, seat, activity.epoch(moment))

    # --- pre-history audit events ------------------------------------------------------------------------

    def _events(
        self, org: Org, made: list[User], groups: dict[str, Group], seats: dict[str, set[SeatKey]]
    ) -> None:
        """Events for what happened in the last 180 days (older ones have left the audit log)."""
        rng = self.events_rng
        since = self.start - timedelta(days=AUDIT_RETENTION_DAYS)
        site = org.sites[0]
        admins = {admin.account_id: admin for admin in self.admins}
        scim = self.apps[SCIM_APP] if len(self.apps) > SCIM_APP else self.admins[0]
        for group in org.groups.values():
            if group.created_at >= since:
                org.events.append(
                    make_event(
                        rng, "group_created", group.created_at, self.admins[0], f"Created group {group.name}"
                    )
                )
        for user in made:
            label = subject_label(user)
            if user.invited_at and user.invited_at >= since and user.invited_by:
                inviter = admins[user.invited_by]
                org.events.append(
                    make_event(
                        rng, "user_invited", user.invited_at, inviter, f"Invited user {label}", user, site
                    )
                )
                for group in groups.values():
                    if user.account_id in group.members and not group.is_external_synced:
                        at = user.invited_at + span(seconds=rng.uniform(1, 30))
                        message = f"Added user {label} to group {group.name}"
                        org.events.append(make_event(rng, "user_added_to_group", at, inviter, message, user))
            if user.management_source == "synced" and user.added_to_org >= since:
                org.events.append(
                    make_event(rng, "user_created", user.added_to_org, scim, f"Created user {label}", user)
                )
                message = f"Added user {label} to group {IDP_GROUP}"
                org.events.append(
                    make_event(rng, "user_added_to_group", user.added_to_org, scim, message, user)
                )
            if user.accepted_at and user.accepted_at >= since:
                main = main_seat(user, seats.get(user.account_id, set()))
                site_of_first_use = next((s for s in org.sites if main and s.cloud_id == main[1]), None)
                org.events.append(login_event(rng, user, user.accepted_at, site_of_first_use))
            actor = rng.choice(self.admins)
            if user.suspended_at and user.suspended_at >= since:
                message = f"Suspended access for {label}"
                org.events.append(
                    make_event(rng, "user_access_suspended", user.suspended_at, actor, message, user)
                )
            if user.deactivated_on and user.deactivated_on >= since and user.account_status == "inactive":
                message = f"Deactivated account of {label}"
                org.events.append(
                    make_event(rng, "account_deactivated", user.deactivated_on, actor, message, user)
                )


def generate_org(config: SimulatorConfig, index: int) -> Org:
    """The org with index ``index`` as it stands at ``config.start``."""
    generator = _Generator(config, index)
    org = generator.org()
    generator.populate(org)
    return org
