"""The simulator's data model: configuration, the synthetic org(s) and everything in them.

These are plain dataclasses shared by the world (generation, evolution, ground truth) and the HTTP layer
(serialisation). The HTTP layer reads them; only :class:`pipeline.simulator.world.World` (and its write side,
``writes.py``) changes them.

Public ``World`` API (in ``world.py``; names are stable):

- ``World(config)``; ``.config``; ``.now`` (frozen simulated clock, aware UTC); ``.api_key``
- ``.orgs: dict[str, Org]`` in creation order; each ``Org`` has ``directories``, ``sites``, ``workspaces``,
  ``groups: dict[str, Group]``, ``users: dict[str, User]`` (current members of the org) and
  ``removed_users: dict[str, User]`` (removed from the directory: gone from the API)
- ``.lag`` (timedelta) and ``.activity_complete_through`` (``now - lag``)
- ``.advance(days)`` moves the clock by whole days and evolves the org(s) day by day
- ``.find_user(org_id, account_id) -> User | None`` (current users only)
- ``.visible_last_active(org_id, user) -> list[(product_key, cloud_id, last_active_at)]`` (lag applied)
- ``.product_access(org_id, user) -> list[(product_key, cloud_id)]`` (group grants + direct access, now)
- ``.user_groups(org_id, user) -> list[Group]``
- ``.seat_usage(org_id) -> dict[(product_key, cloud_id), int]`` (users with access: a workspace's usage)
- ``.audit_events(org_id) -> tuple[AuditEvent, ...]`` (processed by now, within the 180-day retention)
- ``.event_actions() -> list[EventAction]``
- ``.truth(org_id=None, inactive_after_days=90, new_user_grace_days=30, invite_grace_days=14) -> dict``
- ``.writes`` (``writes.Writer``): what the write endpoints change; ``.writes.log`` holds every write answered
- ``.revision`` grows with every change; ``.changed()`` notes one made outside ``advance``

Times are timezone-aware UTC ``datetime`` objects everywhere, except inside :attr:`User.activity`, which
holds integer epoch seconds to keep 100,000 users small in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Protocol

PRODUCTS = ("jira-software", "confluence", "jira-service-desk")
PRODUCT_NAMES = {
    "jira-software": "Jira Software",
    "confluence": "Confluence",
    "jira-service-desk": "Jira Service Management",
}

ROLE_USER = "atlassian/user"
ROLE_ADMIN = "atlassian/admin"
ORG_ADMIN = "atlassian/org-admin"
SITE_ADMIN = "atlassian/site-admin"

DEFAULT_RATE_LIMITS = {"events": 10, "last_active": 200, "default": 600}

# Allowed values of the API-variant fields of SimulatorConfig (the first is the default).
VARIANTS = {
    "product_keys": ("v2", "v1"),
    "product_access": ("all", "used"),
    "reset_precision": ("second", "minute"),
    "activity_after_removal": ("drop", "keep"),
}

# How v2 endpoints name each product when they speak v2 keys (`productAccess[].key` "e.g. jira, confluence"
# in the v2 reference; the JSM key is the product segment of its ARIs, an assumption).
V2_PRODUCT_KEYS = {
    "jira-software": "jira",
    "confluence": "confluence",
    "jira-service-desk": "jira-servicedesk",
}

# The product identity the data contract publishes (dbt seed product_aliases.csv maps every key to it).
CONTRACT_PRODUCT_KEYS = {
    "jira-software": "jira",
    "confluence": "confluence",
    "jira-service-desk": "jira-service-management",
}

# A seat: a product instance, identified the way the API does (product key + site cloud id).
SeatKey = tuple[str, str]


def default_start() -> datetime:
    """Today's UTC date at 06:00: the only place the simulator looks at the wall clock."""
    return datetime.combine(datetime.now(UTC).date(), time(6), tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """Faults the HTTP layer injects. The world only carries them."""

    latency_ms: float = 0
    jitter_ms: float = 0
    error_rate: float = 0  # share of requests answered 500/502/503
    slow_rate: float = 0  # share of requests that take slow_seconds (client timeouts)
    slow_seconds: float = 35
    drop_rate: float = 0  # share of connections closed without a response
    malformed_rate: float = 0  # share of 200 responses with a broken JSON body
    storm_requests: int = 0  # the next N requests get 429
    # Lost answers: the API carries a write out, then the client gets 504 (or, for the rate, half the time a
    # dropped connection) instead of its 204: a proxy timing out after the backend acted.
    lost_answer_rate: float = 0  # share of writes that changed something whose answer is lost
    lose_first_writes: bool = False  # the first change to each resource is answered 504
    seed: int | None = None


@dataclass(slots=True)
class SimulatorConfig:
    """Everything that defines a simulated world. Same config ⇒ same world, event for event.

    ``users`` is the initial population per org. ``start`` is when the simulated clock starts (aware UTC).
    ``lag_hours``: activity at simulated time T is visible only when ``now >= T + lag_hours``; the lag does
    not change what happens, only what is visible. ``api_key`` defaults to one derived from the seed.
    The rate-limit and fault fields are for the HTTP layer.
    """

    users: int = 500
    orgs: int = 1
    seed: int = 7
    start: datetime = field(default_factory=default_start)
    lag_hours: float = 24.0
    api_key: str | None = None
    rate_limits: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    rate_window_seconds: float = 60
    retry_after: bool = False
    faults: FaultConfig = field(default_factory=FaultConfig)
    # The API's documented variants (README, "Simulator fidelity"). product_keys: "v2" = v2 endpoints name
    # products `jira`, `confluence`, `jira-servicedesk` with `ari:cloud:jira::site/…` ids while v1
    # last-active-dates keeps its enum keys; "v1" = the v1 keys everywhere. product_access: "all" = v2
    # productAccess lists every accessible product, "used" = only products with a last-active timestamp.
    # reset_precision: "minute" = X-RateLimit-Reset truncated to the minute. scoped_key: the events
    # endpoints refuse the key as they refuse a key created with scopes. read_only_key: the write endpoints
    # refuse the key (403) as they refuse a key that may read but not write; reads still work.
    product_keys: str = "v2"
    product_access: str = "all"
    reset_precision: str = "second"
    scoped_key: bool = False
    read_only_key: bool = False
    # World product key → the key last-active data (v1 last-active-dates and v2 productAccess) reports it
    # under instead: an API that starts naming a product in a way no alias table knows yet.
    activity_key_renames: dict[str, str] = field(default_factory=dict)
    # Whether v1 last-active-dates still reports a product once the user's access to it has ended (the API
    # reference does not say): "drop" = no (the default, like the admin hub's product list), "keep" = yes,
    # for as long as the user stays in the org, for access that ended after the world started (see
    # User.lost_before_start). productAccess lists access, so it never shows an ex-seat.
    activity_after_removal: str = "drop"

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("SimulatorConfig.start must be timezone-aware (UTC)")
        # Whole seconds: every simulated time is, so timestamps compare exactly everywhere.
        self.start = self.start.astimezone(UTC).replace(microsecond=0)
        if self.users < 1 or self.orgs < 1:
            raise ValueError("SimulatorConfig needs at least one org and one user")
        if self.lag_hours < 0:
            raise ValueError("SimulatorConfig.lag_hours must not be negative")
        for name, allowed in VARIANTS.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"SimulatorConfig.{name} must be one of {', '.join(allowed)}")


@dataclass(slots=True)
class Directory:
    id: str
    name: str


@dataclass(slots=True)
class Site:
    cloud_id: str  # a UUID
    name: str  # the subdomain: host_url is https://<name>.atlassian.net
    products: tuple[str, ...]
    created_at: datetime

    @property
    def host_url(self) -> str:
        return f"https://{self.name}.atlassian.net"

    def ari(self, product_key: str) -> str:
        """The product instance ARI used by last-active-dates, productAccess and role assignments."""
        return f"ari:cloud:{product_key}::site/{self.cloud_id}"


@dataclass(slots=True)
class Workspace:
    """One product on one site. ``id`` is the product instance ARI: unique per org, and its suffix after
    the last ``/`` is the cloud id, which is how clients join workspaces to last-active data."""

    id: str
    product_key: str
    site: Site
    capacity: int  # licensed seats; the world keeps it >= the number of users with access
    created_at: datetime

    @property
    def seat(self) -> SeatKey:
        return (self.product_key, self.site.cloud_id)


@dataclass(slots=True, eq=False)
class Group:
    id: str  # a UUID
    directory_id: str
    name: str
    description: str | None
    is_external_synced: bool
    managed_by: str  # "admins" | "external"
    created_at: datetime
    # (product_key, cloud_id, role_id), e.g. ("confluence", "<uuid>", "atlassian/user")
    grants: list[tuple[str, str, str]] = field(default_factory=list)
    members: set[str] = field(default_factory=set)  # account ids

    def product_seats(self) -> list[SeatKey]:
        """The seats this group grants: the product user role, and the product admin role, since a product
        admin uses (and is billed for) the product too."""
        return [
            (product, cloud_id) for product, cloud_id, role in self.grants if role in (ROLE_USER, ROLE_ADMIN)
        ]


@dataclass(slots=True, eq=False)
class User:
    """An account in an org: the fields the API shows, then latent truth the API does not show."""

    # --- visible in the API ---
    account_id: str  # 24 lowercase hex, or "712020:<uuid>"
    account_type: str  # "atlassian" | "app" | "customer"
    name: str
    nickname: str
    email: str | None  # None: the user hides it
    email_verified: bool
    claim_status: str  # "managed" | "unmanaged"
    management_source: str | None  # "invited" | "synced" | None
    platform_roles: list[str]
    mfa_enabled: bool
    added_to_org: datetime
    account_status: str = "active"  # "active" | "inactive" | "closed"
    membership_status: str = "active"  # "active" | "suspended" | "no_membership"
    for_deletion: bool = False
    deactivated_on: datetime | None = None
    job_title: str | None = None
    department: str | None = None
    time_zone: str | None = None
    direct_access: set[SeatKey] = field(default_factory=set)  # seats granted without a group

    # --- latent: the world's truth, never served as such ---
    persona: str = "daily"
    invited_at: datetime | None = None  # None for IdP-synced and other never-invited accounts
    invited_by: str | None = None  # account id of the inviting admin
    # When the user will first use a product (accept the invite); None = never. `accepted_at` is set
    # from it once that moment has passed in simulated time.
    accept_at: datetime | None = None
    accepted_at: datetime | None = None
    suspended_at: datetime | None = None
    removed_at: datetime | None = None
    # Per seat, ascending epoch seconds of activity: everything newer than now - lag plus the newest one at
    # or before it (older entries can never be shown again, so they are pruned).
    activity: dict[SeatKey, list[int]] = field(default_factory=dict)
    # Per seat, the newest last-active the API has shown at any day boundary since the world started: what a
    # pipeline loading once a day has seen. The API shows last-active only for seats the user can access now,
    # so activity on a seat that was later revoked stays "observed" here, exactly as in a warehouse.
    observed: dict[SeatKey, int] = field(default_factory=dict)
    # Seats with activity the user had lost before the world started (generated pre-history, which lays
    # down no event for the loss): hidden even when ``activity_after_removal`` is ``keep``, which concerns
    # access that ends while the world runs, each end leaving an audit event. A seat leaves this set once
    # held again.
    lost_before_start: set[SeatKey] = field(default_factory=set)

    @property
    def status(self) -> str:
        """The v2 composite ``status``; closed accounts count as deactivated (the enum has no "closed")."""
        if self.for_deletion:
            return "for_deletion"
        if self.account_status != "active":
            return "deactivated"
        if self.membership_status == "suspended":
            return "suspended"
        if self.membership_status == "no_membership":
            return "not_invited"
        return "active"

    @property
    def is_human(self) -> bool:
        return self.account_type == "atlassian"

    def can_be_active(self) -> bool:
        """Only accepted, active, non-suspended humans generate product activity."""
        return (
            self.account_type == "atlassian"
            and self.account_status == "active"
            and self.membership_status == "active"
            and self.accepted_at is not None
            and self.removed_at is None
        )


@dataclass(frozen=True, slots=True)
class EventAction:
    key: str
    display_name: str
    group_display_name: str


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: str  # a UUID
    time: datetime  # when it happened
    processed_at: datetime  # when the audit log took it in (events-stream order)
    action: str
    actor_id: str
    actor_name: str
    actor_email: str | None
    subject_account_id: str | None
    subject_email: str | None
    subject_name: str | None
    cloud_id: str | None  # the site, when the action concerns one
    site_host: str | None
    ip: str
    country: str
    city: str
    message: str  # e.g. "Invited user jane@acme.com"


@dataclass(slots=True, eq=False)
class Org:
    id: str  # looks like a UUID but is not a strict one (letters beyond hex)
    name: str
    index: int  # position in creation order; part of every RNG seed for this org
    domain: str  # the verified email domain of managed accounts
    directories: list[Directory] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)
    workspaces: list[Workspace] = field(default_factory=list)
    groups: dict[str, Group] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    removed_users: dict[str, User] = field(default_factory=dict)
    # Every event kept by the audit log, in creation order; World.audit_events filters and sorts.
    events: list[AuditEvent] = field(default_factory=list)
    # Invites that were in the audit log at some point since the world started and have aged out of it
    # since: a warehouse that loaded them still knows them (subject account id -> invite time).
    expired_invites: dict[str, datetime] = field(default_factory=dict)


class WorldState(Protocol):
    """What the write side (``writes.py``) and the ground truth (``truth.py``) read of the world. ``World``
    (``world.py``) implements it and builds both, so the imports point one way: world → writes, truth →
    model."""

    config: SimulatorConfig
    now: datetime
    orgs: dict[str, Org]

    @property
    def lag(self) -> timedelta: ...

    @property
    def activity_complete_through(self) -> datetime: ...

    def changed(self) -> None: ...

    def audit_events(self, org_id: str) -> tuple[AuditEvent, ...]: ...
