"""The raw schema: every raw table's key, write disposition and column types (:data:`RAW_TABLES`).

Declaring types makes every contract column exist from the first load even when the API never sent a value
(dlt only creates untyped columns once it sees one), so dbt staging can rely on them. Columns not listed here
are still added by schema evolution when the API starts sending them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TableColumns = dict[str, dict[str, Any]]


def _columns(keys: tuple[str, ...], **types: str) -> TableColumns:
    columns: TableColumns = {
        name: {"data_type": data_type, "nullable": True} for name, data_type in types.items()
    }
    for key in keys:
        columns[key]["nullable"] = False
    return columns


USER_COLUMNS = _columns(
    ("org_id", "account_id", "snapshot_date"),
    org_id="text",
    account_id="text",
    account_type="text",
    account_status="text",
    membership_status="text",
    status="text",
    name="text",
    nickname="text",
    email="text",
    email_verified="bool",
    claim_status="text",
    management_source="text",
    platform_roles="json",
    is_mfa_enabled="bool",
    added_to_org_at="timestamp",
    deactivated_on="timestamp",
    is_for_deletion="bool",
    job_title="text",
    department="text",
    # Optional profile fields of the v2 user (free text): often null for every user, and dlt warns about
    # a column it has only seen null ("no type hints") on every load unless it is typed here.
    organization="text",
    location="text",
    time_zone="text",
    extracted_at="timestamp",
    snapshot_date="date",
    run_id="text",
)

LAST_ACTIVE_COLUMNS = _columns(
    ("org_id", "account_id", "product_key", "site_id", "last_active_date"),
    org_id="text",
    account_id="text",
    product_key="text",
    site_id="text",
    resource_id="text",
    last_active_date="date",
    last_active_at="timestamp",
    observed_at="timestamp",
    snapshot_date="date",
)

ACCESS_COLUMNS = _columns(
    ("org_id", "snapshot_date", "account_id", "product_key", "site_id"),
    org_id="text",
    snapshot_date="date",
    account_id="text",
    product_key="text",
    site_id="text",
    resource_id="text",
)

ORG_COLUMNS = _columns(("org_id",), org_id="text", name="text", extracted_at="timestamp")
DIRECTORY_COLUMNS = _columns(("org_id", "directory_id"), org_id="text", directory_id="text", name="text")

GROUP_COLUMNS = _columns(
    ("org_id", "group_id"),
    org_id="text",
    group_id="text",
    directory_id="text",
    name="text",
    description="text",
    is_external_synced="bool",
    managed_by="text",
    user_count="bigint",
    resource_count="bigint",
)

GRANT_COLUMNS = _columns(
    ("org_id", "group_id", "product_key", "site_id", "role_id"),
    org_id="text",
    group_id="text",
    resource_id="text",
    product_key="text",
    site_id="text",
    role_id="text",
)

USER_ROLE_COLUMNS = _columns(
    ("org_id", "snapshot_date", "account_id", "resource_id", "role_id"),
    org_id="text",
    snapshot_date="date",
    account_id="text",
    resource_id="text",
    product_key="text",
    site_id="text",
    role_id="text",
    assignment_methods="text",
    directory_id="text",
)

MEMBERSHIP_COLUMNS = _columns(
    ("org_id", "group_id", "account_id"), org_id="text", group_id="text", account_id="text"
)

WORKSPACE_COLUMNS = _columns(
    ("org_id", "workspace_id"),
    org_id="text",
    workspace_id="text",
    name="text",
    type_key="text",
    product_key="text",
    site_id="text",
    host_url="text",
    status="text",
    capacity="bigint",
    usage="bigint",
    created_at="timestamp",
)

EVENT_ACTION_COLUMNS = _columns(
    ("org_id", "action"), org_id="text", action="text", display_name="text", group_display_name="text"
)

AUDIT_EVENT_COLUMNS = _columns(
    ("org_id", "event_id"),
    org_id="text",
    event_id="text",
    event_at="timestamp",
    processed_at="timestamp",
    action="text",
    actor_account_id="text",
    actor_name="text",
    actor_email="text",
    subject_account_id="text",
    subject_email="text",
    site_id="text",
    site_host="text",
    ip="text",
    country="text",
    city="text",
    message="text",
    context="json",
    container="json",
)

READ_FAILURE_COLUMNS = _columns(
    ("org_id", "snapshot_date", "account_id", "endpoint"),
    org_id="text",
    snapshot_date="date",
    account_id="text",
    endpoint="text",
    status="bigint",
    code="text",
    reason="text",
)

EXTRACT_RUN_COLUMNS = _columns(
    ("run_id", "org_id"),
    run_id="text",
    org_id="text",
    started_at="timestamp",
    finished_at="timestamp",
    extracted_at="timestamp",
    activity_lag_hours="double",
    activity_complete_through="timestamp",
    as_of_date="date",
    last_active_strategy="text",
    api_calls="bigint",
    api_retries="bigint",
    api_rate_limited="bigint",
    users_loaded="bigint",
    last_active_rows_loaded="bigint",
    events_loaded="bigint",
    status="text",
)


@dataclass(frozen=True)
class RawTable:
    primary_key: tuple[str, ...]
    write_disposition: str  # merge: rows accumulate, keyed; replace: each load holds the latest listing
    columns: TableColumns
    description: str  # what a row is: the asset's description in the Dagster UI


# The raw schema, in one place: the resources take their hints from here, the dbt test fixture
# (tests/support/raw_fixture.py) is built from it, and a test checks docs/architecture.md's table against it.
RAW_TABLES: dict[str, RawTable] = {
    "orgs": RawTable(
        ("org_id",), "merge", ORG_COLUMNS, "One row per org (id, name, when it was read, on the API's clock)."
    ),
    "directories": RawTable(
        ("org_id", "directory_id"), "merge", DIRECTORY_COLUMNS, "The org's user directories (v2 directories)."
    ),
    "users": RawTable(
        ("org_id", "account_id"),
        "merge",
        USER_COLUMNS,
        "Current state, one row per org and account (v2 directory users); raw.user_snapshots keeps the same "
        "rows per day.",
    ),
    "user_snapshots": RawTable(
        ("org_id", "snapshot_date", "account_id"),
        "merge",
        USER_COLUMNS,
        "The users rows per day: the history that tells removed users apart.",
    ),
    "user_product_last_active": RawTable(
        ("org_id", "account_id", "product_key", "site_id", "last_active_date"),
        "merge",
        LAST_ACTIVE_COLUMNS,
        "Per user, product and site, every distinct last-active date observed (v1 last-active-dates, or v2 "
        "search productAccess with the bulk strategy).",
    ),
    "user_product_access": RawTable(
        ("org_id", "snapshot_date", "account_id", "product_key", "site_id"),
        "merge",
        ACCESS_COLUMNS,
        "Product access listed by v2 search productAccess, per day (bulk strategy only; with "
        "raw.user_role_assignments, the source of direct, non-group access).",
    ),
    "groups": RawTable(
        ("org_id", "group_id"),
        "replace",
        GROUP_COLUMNS,
        "The org's groups with their user and resource counts (replaced every run).",
    ),
    "group_product_grants": RawTable(
        ("org_id", "group_id", "product_key", "site_id", "role_id"),
        "replace",
        GRANT_COLUMNS,
        "Which product roles each group grants on which site (replaced every run).",
    ),
    "user_role_assignments": RawTable(
        ("org_id", "snapshot_date", "account_id", "resource_id", "role_id"),
        "merge",
        USER_ROLE_COLUMNS,
        "Per day, the role assignments of the users whose counts.resources their groups do not explain "
        "(v2 user role-assignments): direct grants the productAccess expand may not list.",
    ),
    "group_memberships": RawTable(
        ("org_id", "group_id", "account_id"),
        "replace",
        MEMBERSHIP_COLUMNS,
        "Who is in which group (replaced every run).",
    ),
    "workspaces": RawTable(
        ("org_id", "workspace_id"),
        "replace",
        WORKSPACE_COLUMNS,
        "Product instances (sites) with their capacity and usage (replaced every run).",
    ),
    "event_actions": RawTable(
        ("org_id", "action"),
        "merge",
        EVENT_ACTION_COLUMNS,
        "The audit-log action keys with their display names.",
    ),
    "audit_events": RawTable(
        ("org_id", "event_id"),
        "merge",
        AUDIT_EVENT_COLUMNS,
        "The audit log, one row per event id (merged, so reading an overlap again changes nothing), read "
        "from the last processing time loaded.",
    ),
    "extract_runs": RawTable(
        ("run_id", "org_id"),
        "merge",
        EXTRACT_RUN_COLUMNS,
        "One row per run and org: when the API was read, how complete activity is (as-of date), API calls, "
        "retries, 429s and rows loaded.",
    ),
    "user_read_failures": RawTable(
        ("org_id", "snapshot_date", "account_id", "endpoint"),
        "merge",
        READ_FAILURE_COLUMNS,
        "Accounts whose last-active dates or role assignments the API refused with a per-account 4xx, and "
        "why: their activity (or direct access) is unknown, not absent.",
    ),
}


def hints(table: str) -> dict[str, Any]:
    """The dlt resource hints of a raw table: ``@dlt.resource(**hints("users"))``."""
    spec = RAW_TABLES[table]
    return {
        "table_name": table,
        "primary_key": spec.primary_key,
        "write_disposition": spec.write_disposition,
        "columns": spec.columns,
    }
