"""A small, hand-written ``raw`` warehouse for the dbt project, in the raw schema the source declares
(``schema.RAW_TABLES``).

It stands in for what dlt leaves in DuckDB after a few daily loads, so the dbt models can be built and checked
without the simulator. Every lifecycle status, reclaim reason and reclaim lane occurs at least once; the
expected outcomes are in ``EXPECTED_*`` next to the data, so tests (and anyone reusing this fixture) compare
against one source of truth.

What it imitates from dlt on purpose:

* ``_dlt_load_id`` / ``_dlt_id`` on every row, and one stale duplicate row (an older load of the same key) in
  ``users`` and ``audit_events``: staging must keep the latest load;
* merge tables hold the union of every load up to the chosen run (``users`` keeps the latest row per key,
  ``user_snapshots`` one row per day, ``user_product_last_active`` every distinct observation), replace
  tables only the latest state;
* every declared column exists, filled or not (the source types them all, so dlt creates them with the
  table), but a table no load wrote a row to does not exist (dlt creates a table with its first row): here
  ``user_role_assignments`` and ``user_read_failures``.

Usage::

    from tests.support.raw_fixture import build_raw_warehouse
    build_raw_warehouse(path)                      # everything up to the latest run
    build_raw_warehouse(path, through_run="r2")    # the warehouse as it looked after run r2

Calling it again on the same file replaces ``raw`` and leaves dbt's schemas alone, so a test can "load the
next day" and run dbt again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from pipeline.sources.atlassian_admin.schema import RAW_TABLES

ACME = "org-acme"
BETA = "org-beta"
SITE = "site-acme-1"  # jira-software, confluence, jira-service-desk
LABS = "site-acme-labs"  # a second Jira site
BETA_SITE = "site-beta-1"
HOSTS = {
    SITE: "https://acme.atlassian.net",
    LABS: "https://acme-labs.atlassian.net",
    BETA_SITE: "https://beta.atlassian.net",
}

# Products by their normalised key (what the marts publish). Raw rows speak as a real org does: v1
# last-active-dates with the v1 enum keys, v2 productAccess, role assignments and workspaces with the v2
# keys and ARIs (a Jira admin role on the `jira-admin` resource).
JIRA, CONFLUENCE, JSM = "jira", "confluence", "jira-service-management"
V1_KEYS = {JIRA: "jira-software", CONFLUENCE: "confluence", JSM: "jira-service-desk"}
V2_KEYS = {JIRA: "jira", CONFLUENCE: "confluence", JSM: "jira-servicedesk"}


def v2_ari(product: str, site: str, role: str | None = None) -> str:
    name = "jira-admin" if product == JIRA and role == "atlassian/admin" else V2_KEYS[product]
    return f"ari:cloud:{name}::site/{site}"


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Run:
    run_id: str
    org_id: str
    extracted_at: datetime
    lag_hours: float = 24.0
    status: str = "success"
    loads_users: bool = True

    @property
    def load_id(self) -> str:
        return f"{self.extracted_at.timestamp():.6f}"

    @property
    def snapshot_date(self) -> date:
        return self.extracted_at.date()

    @property
    def complete_through(self) -> datetime:
        return self.extracted_at - timedelta(hours=self.lag_hours)


# Three daily runs for acme (as of 2026-03-07, -08, -09), a failed one that loaded nothing, and one run for
# beta with no lag. r4 is newer than r3 but must not become the as-of run: it failed and loaded no users.
RUNS: tuple[Run, ...] = (
    Run("r1", ACME, _ts("2026-03-08T06:00:00")),
    Run("r2", ACME, _ts("2026-03-09T06:00:00")),
    Run("r3", ACME, _ts("2026-03-10T06:00:00")),
    Run("r3-beta", BETA, _ts("2026-03-10T07:00:00"), lag_hours=0),
    Run("r4", ACME, _ts("2026-03-10T12:00:00"), status="failed", loads_users=False),
)
RUN_ORDER = [run.run_id for run in RUNS]
AS_OF = {ACME: date(2026, 3, 9), BETA: date(2026, 3, 10)}


@dataclass
class User:
    account_id: str
    org_id: str = ACME
    account_type: str = "atlassian"
    account_status: str = "active"
    membership_status: str = "active"
    management_source: str | None = "synced"
    added_to_org_at: str = "2024-05-01T09:00:00"
    platform_roles: Sequence[str] = ()
    email: str | None = "default"
    groups: Sequence[str] = ()
    # Runs whose users snapshot lists this user (default: every run of the org that loads users).
    runs: Sequence[str] | None = None

    @property
    def status(self) -> str:
        if self.account_status != "active":
            return "deactivated"
        return {"suspended": "suspended", "no_membership": "not_invited"}.get(
            self.membership_status, "active"
        )

    def row(self, run: Run) -> dict[str, Any]:
        name = self.account_id.removeprefix("acc-").replace("-", " ").title()
        email = (
            f"{self.account_id.removeprefix('acc-')}@acme.example" if self.email == "default" else self.email
        )
        return {
            "org_id": self.org_id,
            "account_id": self.account_id,
            "account_type": self.account_type,
            "account_status": self.account_status,
            "membership_status": self.membership_status,
            "status": self.status,
            "name": name,
            "nickname": self.account_id.removeprefix("acc-"),
            "email": email,
            "email_verified": email is not None,
            "claim_status": "managed",
            "management_source": self.management_source,
            "platform_roles": json.dumps(list(self.platform_roles)),
            "is_mfa_enabled": bool(self.platform_roles),
            "added_to_org_at": _ts(self.added_to_org_at),
            "is_for_deletion": False,
            "extracted_at": run.extracted_at,
            "snapshot_date": run.snapshot_date,
            "run_id": run.run_id,
        }


# Groups: (org, group_id, name, [(product, site, role)]).
GROUPS: tuple[tuple[str, str, str, tuple[tuple[str, str, str], ...]], ...] = (
    (ACME, "g-jira-users", "jira-users", ((JIRA, SITE, "atlassian/user"),)),
    (ACME, "g-confluence-users", "confluence-users", ((CONFLUENCE, SITE, "atlassian/user"),)),
    # Grants two products: removing someone from it takes away more than one seat → needs_review.
    (
        ACME,
        "g-all-staff",
        "all-staff",
        ((JIRA, SITE, "atlassian/user"), (CONFLUENCE, SITE, "atlassian/user")),
    ),
    (ACME, "g-jsm-agents", "jsm-agents", ((JSM, SITE, "atlassian/user"),)),
    (ACME, "g-jira-admins", "jira-admins", ((JIRA, SITE, "atlassian/admin"),)),
    # A guest role holds no paid seat.
    (ACME, "g-confluence-guests", "confluence-guests", ((CONFLUENCE, SITE, "atlassian/guest"),)),
    (ACME, "g-labs-jira", "labs-jira", ((JIRA, LABS, "atlassian/user"),)),
    (BETA, "g-beta-jira", "beta-jira", ((JIRA, BETA_SITE, "atlassian/user"),)),
)

USERS: tuple[User, ...] = (
    User("acc-active", groups=["g-jira-users", "g-confluence-users"]),
    User("acc-idle-jira", groups=["g-jira-users"]),
    User("acc-edge-90", groups=["g-jira-users"]),
    User("acc-edge-91", groups=["g-jira-users"]),
    User("acc-multi-product", groups=["g-all-staff"]),
    User("acc-never-used", added_to_org_at="2025-10-01T09:00:00", groups=["g-confluence-users"]),
    User("acc-new-hire", added_to_org_at="2026-02-20T09:00:00", email=None, groups=["g-confluence-users"]),
    User(
        "acc-invite-old",
        management_source="invited",
        added_to_org_at="2026-02-01T08:00:00",
        groups=["g-jira-users"],
    ),
    User(
        "acc-invite-recent",
        management_source="invited",
        added_to_org_at="2026-03-01T09:00:00",
        groups=["g-jira-users"],
    ),
    # Invited before the audit log's retention: no invite event, so invited_at falls back to added_to_org_at.
    User(
        "acc-invite-fallback",
        management_source="invited",
        added_to_org_at="2026-01-15T10:00:00",
        groups=["g-confluence-users"],
    ),
    User(
        "acc-accepted-today",
        management_source="invited",
        added_to_org_at="2026-03-09T08:00:00",
        groups=["g-jira-users"],
        runs=["r3"],
    ),
    User("acc-suspended", membership_status="suspended", groups=["g-jira-users"]),
    User(
        "acc-deactivated",
        account_status="inactive",
        management_source="invited",
        added_to_org_at="2026-01-10T10:00:00",
    ),
    User("acc-closed", account_status="closed"),
    User("acc-not-invited", membership_status="no_membership", management_source=None),
    User("acc-removed", runs=["r1", "r2"]),
    User("acc-readded", groups=["g-confluence-users"], runs=["r1", "r3"]),
    User("acc-org-admin", platform_roles=["atlassian/org-admin"], groups=["g-jira-users"]),
    User(
        "acc-site-admin",
        platform_roles=["atlassian/site-admin"],
        added_to_org_at="2024-01-01T09:00:00",
        groups=["g-confluence-users"],
    ),
    User("acc-jira-admin", groups=["g-jira-admins"]),
    User(
        "acc-app-bot",
        account_type="app",
        added_to_org_at="2024-01-01T09:00:00",
        email=None,
        groups=["g-jira-users"],
    ),
    User("acc-direct"),
    User("acc-labs", added_to_org_at="2024-01-01T09:00:00", groups=["g-jira-users", "g-labs-jira"]),
    User("acc-guest", groups=["g-confluence-guests"]),
    User("acc-jsm-agent", groups=["g-jsm-agents"]),
    # beta: one active user, and acc-active again (the same Atlassian account in a second org).
    User("acc-beta-user", org_id=BETA, groups=["g-beta-jira"]),
    User("acc-active", org_id=BETA, added_to_org_at="2025-01-01T09:00:00", groups=["g-beta-jira"]),
)

# Access listed by v2 search `productAccess` with no granting group: direct access.
DIRECT_ACCESS = ((ACME, "acc-direct", JSM, SITE),)

# Last-active observations: (org, account, product, site, last active at, run that observed it).
# An active user is observed again by later runs with a newer date; every distinct date is kept by dlt.
LAST_ACTIVE: tuple[tuple[str, str, str, str, str, str], ...] = (
    (ACME, "acc-active", JIRA, SITE, "2026-03-05T10:00:00", "r1"),
    (ACME, "acc-active", JIRA, SITE, "2026-03-05T10:00:00", "r2"),
    (ACME, "acc-active", JIRA, SITE, "2026-03-08T16:00:00", "r3"),
    (ACME, "acc-active", CONFLUENCE, SITE, "2026-03-08T11:00:00", "r3"),
    (ACME, "acc-idle-jira", JIRA, SITE, "2025-11-01T10:00:00", "r1"),
    # 90 days before the as-of date 2026-03-09: still active (91 days by the extraction date).
    (ACME, "acc-edge-90", JIRA, SITE, "2025-12-09T10:00:00", "r1"),
    (ACME, "acc-edge-91", JIRA, SITE, "2025-12-08T23:00:00", "r1"),
    (ACME, "acc-multi-product", CONFLUENCE, SITE, "2026-03-02T10:00:00", "r2"),
    (ACME, "acc-multi-product", JIRA, SITE, "2025-06-01T10:00:00", "r1"),
    # Accepted the invite on the as-of date, visible in r3 only.
    (ACME, "acc-accepted-today", JIRA, SITE, "2026-03-09T15:30:00", "r3"),
    (ACME, "acc-suspended", JIRA, SITE, "2025-09-01T10:00:00", "r1"),
    (ACME, "acc-removed", JIRA, SITE, "2025-12-20T10:00:00", "r1"),
    (ACME, "acc-readded", CONFLUENCE, SITE, "2026-03-09T05:00:00", "r3"),
    (ACME, "acc-org-admin", JIRA, SITE, "2025-10-01T10:00:00", "r1"),
    (ACME, "acc-jira-admin", JIRA, SITE, "2025-08-01T10:00:00", "r1"),
    (ACME, "acc-direct", JSM, SITE, "2025-10-15T10:00:00", "r1"),
    (ACME, "acc-labs", JIRA, SITE, "2026-03-06T10:00:00", "r2"),
    (ACME, "acc-jsm-agent", JSM, SITE, "2026-02-20T10:00:00", "r1"),
    (BETA, "acc-beta-user", JIRA, BETA_SITE, "2026-03-10T06:30:00", "r3-beta"),
)

# Audit events: (event_id, org, action, event time, actor, subject, run that loaded it).
AUDIT_EVENTS: tuple[tuple[str, str, str, str, str | None, str | None, str], ...] = (
    ("e-01", ACME, "group_created", "2026-01-05T09:00:00", "acc-org-admin", None, "r1"),
    ("e-02", ACME, "user_invited", "2026-01-10T10:00:00", "acc-org-admin", "acc-deactivated", "r1"),
    ("e-03", ACME, "user_granted_role", "2026-01-20T10:00:00", "acc-org-admin", "acc-multi-product", "r1"),
    ("e-04", ACME, "user_invited", "2026-02-01T08:00:00", "acc-org-admin", "acc-invite-old", "r1"),
    ("e-05", ACME, "user_access_suspended", "2026-02-01T12:00:00", "acc-org-admin", "acc-suspended", "r1"),
    ("e-06", ACME, "account_deactivated", "2026-02-15T10:00:00", "acc-org-admin", "acc-deactivated", "r1"),
    ("e-07", ACME, "user_invited", "2026-03-01T09:00:00", "acc-site-admin", "acc-invite-recent", "r1"),
    # Not in event_action_categories.csv: categorised from its display name.
    (
        "e-08",
        ACME,
        "custom_product_access_revoked",
        "2026-03-02T09:00:00",
        "acc-org-admin",
        "acc-guest",
        "r1",
    ),
    ("e-09", ACME, "user_login", "2026-03-08T09:00:00", "acc-active", "acc-active", "r2"),
    ("e-10", ACME, "org_invitation_sent", "2026-03-09T08:00:00", "acc-org-admin", "acc-accepted-today", "r3"),
    (
        "e-11",
        ACME,
        "user_removed_from_directory",
        "2026-03-09T12:00:00",
        "acc-org-admin",
        "acc-removed",
        "r3",
    ),
    ("e-12", BETA, "user_login", "2026-03-10T06:30:00", "acc-beta-user", "acc-beta-user", "r3-beta"),
)
EVENT_ACTIONS: dict[str, tuple[str, str]] = {
    "group_created": ("Created group", "Group management"),
    "user_invited": ("Invited user", "User management"),
    "user_granted_role": ("Granted role to user", "User management"),
    "user_access_suspended": ("Suspended user access", "User management"),
    "account_deactivated": ("Deactivated account", "Atlassian accounts"),
    "custom_product_access_revoked": ("Revoked product access", "Product access"),
    "user_login": ("Logged in to account", "Atlassian accounts"),
    "org_invitation_sent": ("Invited user to organization", "User management"),
    "user_removed_from_directory": ("Removed user from directory", "User management"),
}

WORKSPACES = (
    (ACME, f"ari:cloud:{JIRA}::site/{SITE}", "acme", JIRA, SITE, 50),
    (ACME, f"ari:cloud:{CONFLUENCE}::site/{SITE}", "acme", CONFLUENCE, SITE, 50),
    (ACME, f"ari:cloud:{JSM}::site/{SITE}", "acme", JSM, SITE, 10),
    (ACME, f"ari:cloud:{JIRA}::site/{LABS}", "acme-labs", JIRA, LABS, 25),
    (BETA, f"ari:cloud:{JIRA}::site/{BETA_SITE}", "beta", JIRA, BETA_SITE, None),
)

# ---------------------------------------------------------------------------------------------------------
# Expected outcomes as of the last run (r3 for acme, r3-beta for beta).

EXPECTED_LIFECYCLE: dict[tuple[str, str], str] = {
    (ACME, "acc-active"): "active",
    (ACME, "acc-idle-jira"): "inactive",
    (ACME, "acc-edge-90"): "active",
    (ACME, "acc-edge-91"): "inactive",
    (ACME, "acc-multi-product"): "active",
    (ACME, "acc-never-used"): "never_active",
    (ACME, "acc-new-hire"): "never_active",
    (ACME, "acc-invite-old"): "invited_pending",
    (ACME, "acc-invite-recent"): "invited_pending",
    (ACME, "acc-invite-fallback"): "invited_pending",
    (ACME, "acc-accepted-today"): "active",
    (ACME, "acc-suspended"): "suspended",
    (ACME, "acc-deactivated"): "deactivated",
    (ACME, "acc-closed"): "closed",
    (ACME, "acc-not-invited"): "not_invited",
    (ACME, "acc-removed"): "removed",
    (ACME, "acc-readded"): "active",
    (ACME, "acc-org-admin"): "inactive",
    (ACME, "acc-site-admin"): "never_active",
    (ACME, "acc-jira-admin"): "inactive",
    (ACME, "acc-app-bot"): "never_active",
    (ACME, "acc-direct"): "inactive",
    (ACME, "acc-labs"): "active",
    (ACME, "acc-guest"): "never_active",
    (ACME, "acc-jsm-agent"): "active",
    (BETA, "acc-beta-user"): "active",
    (BETA, "acc-active"): "never_active",
}

# Reclaim candidates: (org, account, product, site) → (reason, lane). Every other seat is not a candidate.
EXPECTED_CANDIDATES: dict[tuple[str, str, str, str], tuple[str, str]] = {
    (ACME, "acc-idle-jira", JIRA, SITE): ("inactive", "cleanup_ready"),
    (ACME, "acc-edge-91", JIRA, SITE): ("inactive", "cleanup_ready"),
    (ACME, "acc-multi-product", JIRA, SITE): ("inactive", "needs_review"),
    (ACME, "acc-never-used", CONFLUENCE, SITE): ("never_used", "cleanup_ready"),
    (ACME, "acc-invite-old", JIRA, SITE): ("invite_not_accepted", "cleanup_ready"),
    (ACME, "acc-invite-fallback", CONFLUENCE, SITE): ("invite_not_accepted", "cleanup_ready"),
    (ACME, "acc-org-admin", JIRA, SITE): ("inactive", "protected"),
    (ACME, "acc-site-admin", CONFLUENCE, SITE): ("never_used", "protected"),
    (ACME, "acc-jira-admin", JIRA, SITE): ("inactive", "protected"),
    (ACME, "acc-app-bot", JIRA, SITE): ("never_used", "protected"),
    (ACME, "acc-direct", JSM, SITE): ("inactive", "needs_review"),
    (ACME, "acc-labs", JIRA, LABS): ("never_used", "cleanup_ready"),
    (BETA, "acc-active", JIRA, BETA_SITE): ("never_used", "cleanup_ready"),
}

# fct_invitations: (org, account) → status.
EXPECTED_INVITATIONS: dict[tuple[str, str], str] = {
    (ACME, "acc-deactivated"): "cancelled",
    (ACME, "acc-invite-old"): "pending",
    (ACME, "acc-invite-recent"): "pending",
    (ACME, "acc-invite-fallback"): "pending",
    (ACME, "acc-accepted-today"): "accepted",
}

# ---------------------------------------------------------------------------------------------------------
# Table definitions: the raw schema as the source declares it (pipeline/sources/atlassian_admin/schema.py,
# RAW_TABLES), with dlt's own columns added to each, in DuckDB's type names.

DUCKDB_TYPES = {  # dlt data types as DuckDB names them
    "text": "varchar",
    "timestamp": "timestamptz",
    "bool": "boolean",
    "bigint": "bigint",
    "double": "double",
    "date": "date",
    "json": "json",
}
DLT_COLUMNS = {"_dlt_load_id": "varchar", "_dlt_id": "varchar"}  # dlt adds them to every table
TABLES: dict[str, dict[str, str]] = {
    name: {column: DUCKDB_TYPES[hint["data_type"]] for column, hint in spec.columns.items()}
    for name, spec in RAW_TABLES.items()
}


@dataclass
class _Rows:
    """Rows per table, each tagged with the run that loaded it."""

    by_table: dict[str, list[tuple[Run, dict[str, Any]]]] = field(default_factory=dict)

    def add(self, table: str, run: Run, row: dict[str, Any]) -> None:
        self.by_table.setdefault(table, []).append((run, row))


def _runs_through(through_run: str) -> list[Run]:
    if through_run not in RUN_ORDER:
        raise ValueError(f"unknown run {through_run!r}; runs are {RUN_ORDER}")
    cutoff = next(run for run in RUNS if run.run_id == through_run).extracted_at
    return [run for run in RUNS if run.extracted_at <= cutoff]


def _run(run_id: str) -> Run:
    return next(run for run in RUNS if run.run_id == run_id)


def _user_runs(user: User, runs: Iterable[Run]) -> list[Run]:
    loading = [run for run in runs if run.org_id == user.org_id and run.loads_users]
    if user.runs is None:
        return loading
    return [run for run in loading if run.run_id in user.runs]


def _collect(runs: list[Run]) -> _Rows:
    rows = _Rows()
    run_ids = {run.run_id for run in runs}
    grants = {(org, group_id): grant for org, group_id, _, grant in GROUPS}
    for run in runs:
        if run.loads_users:
            rows.add(
                "orgs",
                run,
                {"org_id": run.org_id, "name": run.org_id.title(), "extracted_at": run.extracted_at},
            )
            rows.add(
                "directories",
                run,
                {"org_id": run.org_id, "directory_id": f"dir-{run.org_id}", "name": "Main"},
            )
        for user in USERS:
            if run not in _user_runs(user, [run]):
                continue
            user_row = user.row(run)
            rows.add("users", run, user_row)
            rows.add("user_snapshots", run, user_row)
            # v2 productAccess lists everything the user can reach, through a group or directly.
            reachable = {(p, s) for g in user.groups for p, s, _ in grants[(user.org_id, g)]}
            reachable |= {(p, s) for o, a, p, s in DIRECT_ACCESS if (o, a) == (user.org_id, user.account_id)}
            for product, site in sorted(reachable):
                rows.add(
                    "user_product_access",
                    run,
                    {
                        "org_id": user.org_id,
                        "account_id": user.account_id,
                        "product_key": V2_KEYS[product],
                        "site_id": site,
                        "resource_id": v2_ari(product, site),
                        "snapshot_date": run.snapshot_date,
                    },
                )
        for org, account, product, site, at, observed_by in LAST_ACTIVE:
            if observed_by != run.run_id:
                continue
            rows.add(
                "user_product_last_active",
                run,
                {
                    "org_id": org,
                    "account_id": account,
                    "product_key": V1_KEYS[product],
                    "site_id": site,
                    "resource_id": f"ari:cloud:{V1_KEYS[product]}::site/{site}",
                    "last_active_date": _ts(at).date(),
                    "last_active_at": _ts(at),
                    "observed_at": run.extracted_at,
                    "snapshot_date": run.snapshot_date,
                },
            )
        for event_id, org, action, at, actor, subject, loaded_by in AUDIT_EVENTS:
            if loaded_by != run.run_id:
                continue
            rows.add("audit_events", run, _event_row(event_id, org, action, at, actor, subject))
        for action, (display_name, group_name) in EVENT_ACTIONS.items():
            rows.add(
                "event_actions",
                run,
                {
                    "org_id": run.org_id,
                    "action": action,
                    "display_name": display_name,
                    "group_display_name": group_name,
                },
            )
        rows.add("extract_runs", run, _extract_run_row(run, runs))
    # Replace tables: the state of the groups as of the latest run (they do not change in this fixture).
    latest = runs[-1]
    for org, group_id, name, grant in GROUPS:
        rows.add(
            "groups",
            latest,
            {
                "org_id": org,
                "group_id": group_id,
                "directory_id": f"dir-{org}",
                "name": name,
                "description": None,
                "is_external_synced": False,
                "managed_by": "admins",
                "user_count": sum(1 for u in USERS if u.org_id == org and group_id in u.groups),
                "resource_count": len(grant),
            },
        )
        for product, site, role in grant:
            rows.add(
                "group_product_grants",
                latest,
                {
                    "org_id": org,
                    "group_id": group_id,
                    "resource_id": v2_ari(product, site, role),
                    # as the loader does: the ARI's product segment
                    "product_key": v2_ari(product, site, role).split(":")[2],
                    "site_id": site,
                    "role_id": role,
                },
            )
    for user in USERS:
        # Memberships are read from the latest users listing: a user absent from it has none.
        listed = [run for run in _user_runs(user, runs) if run.run_id in run_ids]
        latest_org_run = max(
            (r for r in runs if r.org_id == user.org_id and r.loads_users),
            key=lambda r: r.extracted_at,
            default=None,
        )
        if not listed or listed[-1] != latest_org_run:
            continue
        for group_id in user.groups:
            rows.add(
                "group_memberships",
                latest,
                {"org_id": user.org_id, "group_id": group_id, "account_id": user.account_id},
            )
    for org, workspace_id, name, product, site, capacity in WORKSPACES:
        rows.add(
            "workspaces",
            latest,
            {
                "org_id": org,
                "workspace_id": workspace_id,
                "name": name,
                "type_key": V2_KEYS[product],
                "product_key": V2_KEYS[product],
                "site_id": site,
                "host_url": HOSTS[site],
                "status": "online",
                "capacity": capacity,
                "usage": None,
                "created_at": _ts("2023-01-01T00:00:00"),
            },
        )
    return rows


def _event_row(
    event_id: str, org: str, action: str, at: str, actor: str | None, subject: str | None
) -> dict[str, Any]:
    site = SITE if org == ACME else BETA_SITE
    context = [{"id": subject, "type": "users"}] if subject else []
    container = [{"id": site, "type": "sites", "attributes": {"siteHostName": HOSTS[site]}}]
    return {
        "org_id": org,
        "event_id": event_id,
        "event_at": _ts(at),
        "processed_at": _ts(at) + timedelta(minutes=2),
        "action": action,
        "actor_account_id": actor,
        "actor_name": actor.removeprefix("acc-").replace("-", " ").title() if actor else None,
        "actor_email": None,
        "subject_account_id": subject,
        "subject_email": None,
        "site_id": site,
        "site_host": HOSTS[site],
        "ip": "203.0.113.7",
        "country": "Germany",
        "city": "Berlin",
        "message": f"{EVENT_ACTIONS[action][0]}",
        "context": json.dumps(context),
        "container": json.dumps(container),
    }


def _extract_run_row(run: Run, runs: list[Run]) -> dict[str, Any]:
    loaded = run.loads_users
    return {
        "run_id": run.run_id,
        "org_id": run.org_id,
        "started_at": run.extracted_at - timedelta(seconds=30),
        "finished_at": run.extracted_at + timedelta(seconds=45),
        "extracted_at": run.extracted_at,
        "activity_lag_hours": run.lag_hours,
        "activity_complete_through": run.complete_through,
        "as_of_date": run.complete_through.date(),
        "last_active_strategy": "bulk",
        "api_calls": 12 if loaded else 1,
        "api_retries": 1 if run.run_id == "r2" else 0,
        "api_rate_limited": 1 if run.run_id == "r2" else 0,
        "users_loaded": sum(1 for u in USERS if run in _user_runs(u, [run])) if loaded else 0,
        "last_active_rows_loaded": sum(1 for row in LAST_ACTIVE if row[5] == run.run_id),
        "events_loaded": sum(1 for row in AUDIT_EVENTS if row[6] == run.run_id),
        "status": run.status,
    }


def _merged(table: str, tagged: list[tuple[Run, dict[str, Any]]]) -> list[tuple[Run, dict[str, Any]]]:
    """What a dlt merge leaves behind: the latest row per primary key (replace tables: latest load only)."""
    spec = RAW_TABLES[table]
    if spec.write_disposition == "replace":
        latest = max(run.extracted_at for run, _ in tagged)
        return [(run, row) for run, row in tagged if run.extracted_at == latest]
    keys = spec.primary_key
    merged: dict[tuple[Any, ...], tuple[Run, dict[str, Any]]] = {}
    for run, row in sorted(tagged, key=lambda item: item[0].extracted_at):
        merged[tuple(row[key] for key in keys)] = (run, row)
    return list(merged.values())


def _stale_duplicates(rows: dict[str, list[tuple[Run, dict[str, Any]]]]) -> None:
    """Add an older load of an existing key, with different values, that staging must ignore."""
    oldest = Run("r0", ACME, _ts("2026-03-01T06:00:00"))
    for table, key_value, changes in (
        ("users", "acc-active", {"name": "Stale Name", "email": "stale@acme.example"}),
        ("audit_events", "e-04", {"action": "user_login"}),
    ):
        column = "account_id" if table == "users" else "event_id"
        for _, row in list(rows.get(table, [])):
            if row[column] == key_value and row["org_id"] == ACME:
                rows[table].append((oldest, {**row, **changes}))
                break


def build_raw_warehouse(path: Path | str, *, through_run: str = RUN_ORDER[-1]) -> Path:
    """Create (or replace) schema ``raw`` in the DuckDB file at ``path`` as dlt would leave it after
    ``through_run``. Other schemas in the file are left untouched."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    collected = _collect(_runs_through(through_run))
    merged = {table: _merged(table, tagged) for table, tagged in collected.by_table.items()}
    _stale_duplicates(merged)
    config = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    with duckdb.connect(str(path), config=config) as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute("drop schema if exists raw cascade")
        con.execute("create schema raw")
        for table, columns in TABLES.items():
            tagged = merged.get(table, [])
            if not tagged:
                continue  # as dlt: no rows, no table
            all_columns = {**columns, **DLT_COLUMNS}
            ddl = ", ".join(f'"{name}" {kind}' for name, kind in all_columns.items())
            con.execute(f"create table raw.{table} ({ddl})")
            names = list(all_columns)
            placeholders = ", ".join("?" for _ in names)
            undeclared = {name for _, row in tagged for name in row} - set(columns)
            if undeclared:
                raise ValueError(f"raw.{table} has no column {sorted(undeclared)} in schema.RAW_TABLES")
            values = [
                [row.get(name) for name in columns] + [run.load_id, f"{table}-{index:05d}"]
                for index, (run, row) in enumerate(tagged)
            ]
            con.executemany(f"insert into raw.{table} values ({placeholders})", values)
    return path


if __name__ == "__main__":  # pragma: no cover - a convenience for developing the dbt project by hand
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "data/warehouse.duckdb")
    build_raw_warehouse(target, through_run=sys.argv[2] if len(sys.argv) > 2 else RUN_ORDER[-1])
    print(f"raw fixture written to {target}")
