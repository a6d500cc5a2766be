"""dlt source for the Atlassian Admin (organizations) API.

One resource per raw table (see ``docs/architecture.md``). Every row carries ``org_id``; several orgs load in
one run, each through its own client (one API key per org).

How the calls are spent, cheapest first:

* users: v2 ``POST /directories/-/users/search`` with ``expand: [productAccess, groups]`` — one call per 100
  users gives the users, their group memberships, their product access and (``bulk``) their per-product
  last-active timestamps;
* ``per_user`` (or ``auto`` when the API refuses the ``productAccess`` expand): one
  ``last-active-dates`` call per user, fanned out with bounded concurrency and paced by the client;
* audit events: ``/events-stream`` (sorted by processing time, so late events are not missed) continuing from
  the cursor kept in dlt state; an explicit window reads a backfill range without touching that cursor.

The users listing is fetched once per org and shared by the resources that need it (``_OrgSnapshot``).
Resources run in order (``next_item_mode=fifo``) so ``extract_runs`` comes last and sees every count.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt

from pipeline.atlassian.errors import AtlassianApiError
from pipeline.progress import ProgressFn
from pipeline.sources.atlassian_admin import mappers, schema

log = logging.getLogger("seatwatch.extract")

SOURCE_NAME = "atlassian_admin"
USERS_PAGE_SIZE = 100
# The org audit log keeps 180 days; a first load takes all of it (invites live only there).
AUDIT_RETENTION_DAYS = 180
# Statuses of v2 search errors that mean "this expand or endpoint is not available here".
_UNSUPPORTED_STATUSES = {400, 404, 405, 501}

_SNAPSHOT_HINTS = dlt.mark.make_hints(
    table_name="user_snapshots",
    write_disposition="merge",
    primary_key=("org_id", "snapshot_date", "account_id"),
    columns=schema.USER_COLUMNS,
)


@dataclass(frozen=True)
class EventsWindow:
    """A closed-open ``[start, end)`` window of event times for backfills (Dagster partitions)."""

    start: datetime
    end: datetime


@dataclass
class OrgSession:
    """One org and the API client that may read it."""

    org_id: str
    api: Any  # pipeline.atlassian.SyncAdminApi (kept structural so tests can pass a fake)


@dataclass
class RunInfo:
    run_id: str
    activity_lag_hours: float
    strategy: str = "auto"
    events_window: EventsWindow | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class _UserRecord:
    row: dict[str, Any]
    product_access: list[dict[str, Any]] | None  # None: the API did not expand productAccess
    group_ids: list[str] | None


@dataclass
class _OrgSnapshot:
    """Everything learnt from one pass over an org's users, shared by several resources."""

    session: OrgSession
    run: RunInfo
    progress: ProgressFn
    _users: list[_UserRecord] | None = None
    _groups: list[dict[str, Any]] | None = None
    context: mappers.SnapshotContext | None = None
    bulk_supported: bool = False
    counts: dict[str, int] = field(default_factory=lambda: {"users": 0, "last_active": 0, "events": 0})

    @property
    def org_id(self) -> str:
        return self.session.org_id

    def users(self) -> list[_UserRecord]:
        if self._users is None:
            self._users = self._fetch_users()
        return self._users

    def groups(self) -> list[dict[str, Any]]:
        """The org's groups, listed once per run (three resources need them)."""
        if self._groups is None:
            self._groups = list(self.session.api.iter_groups(self.org_id))
        return self._groups

    def _fetch_users(self) -> list[_UserRecord]:
        api, org_id = self.session.api, self.org_id
        wants_bulk = self.run.strategy in ("auto", "bulk")
        expand = ["productAccess", "groups", "platformRoles"] if wants_bulk else ["groups", "platformRoles"]
        try:
            pages = list(self._search_pages(expand))
            self.bulk_supported = wants_bulk
        except AtlassianApiError as error:
            if (
                self.run.strategy != "auto"
                or getattr(error, "status_code", None) not in _UNSUPPORTED_STATUSES
            ):
                raise
            log.info("org %s: users search refused the productAccess expand; using per-user calls", org_id)
            pages = list(self._search_pages(["groups", "platformRoles"]))
        records: list[_UserRecord] = []
        for page_date, items in pages:
            if self.context is None:
                # The API's clock, not ours: the simulator's Date is simulated and a real server's may differ.
                self.context = mappers.SnapshotContext(org_id, self.run.run_id, page_date)
            for item in items:
                groups = item.get("groups")
                records.append(
                    _UserRecord(
                        row=mappers.user_row(item, self.context),
                        product_access=item.get("productAccess") if self.bulk_supported else None,
                        group_ids=None if groups is None else [g["id"] for g in groups if g.get("id")],
                    )
                )
        if self.context is None:  # an org with no users still needs an as-of time
            self.context = mappers.SnapshotContext(org_id, self.run.run_id, api.server_now())
        return records

    def _search_pages(self, expand: list[str]) -> Iterator[tuple[datetime, list[dict[str, Any]]]]:
        fetched = 0
        for page in self.session.api.search_users(self.org_id, expand=expand, limit=USERS_PAGE_SIZE):
            fetched += len(page.items)
            self.progress("users", {"org_id": self.org_id, "users": fetched})
            yield page.date, page.items


def _lag(run: RunInfo) -> timedelta:
    return timedelta(hours=run.activity_lag_hours)


@dlt.source(name=SOURCE_NAME, max_table_nesting=0)
def atlassian_admin(
    sessions: Sequence[OrgSession],
    run: RunInfo,
    progress: ProgressFn | None = None,
) -> Any:
    """All raw tables for the given orgs. ``progress(step, counters)`` reports long steps."""
    report = progress or (lambda step, counters: None)
    snapshots = [_OrgSnapshot(session, run, report) for session in sessions]

    @dlt.resource(write_disposition="merge", primary_key="org_id", columns=schema.ORG_COLUMNS)
    def orgs() -> Iterator[dict[str, Any]]:
        for snap in snapshots:
            org = snap.session.api.get_org(snap.org_id)
            attributes = org.get("attributes") or {}
            yield {
                "org_id": snap.org_id,
                "name": attributes.get("name"),
                "extracted_at": snap.session.api.server_now(),
            }

    @dlt.resource(
        write_disposition="merge", primary_key=("org_id", "directory_id"), columns=schema.DIRECTORY_COLUMNS
    )
    def directories() -> Iterator[dict[str, Any]]:
        for snap in snapshots:
            for item in snap.session.api.list_directories(snap.org_id):
                yield {
                    "org_id": snap.org_id,
                    "directory_id": item.get("directoryId"),
                    "name": item.get("name"),
                }

    @dlt.resource(
        write_disposition="merge", primary_key=("org_id", "account_id"), columns=schema.USER_COLUMNS
    )
    def users() -> Iterator[Any]:
        for snap in snapshots:
            records = snap.users()
            snap.counts["users"] = len(records)
            rows = [record.row for record in records]
            yield rows
            # The same rows keyed by day: the history that tells removed users apart. Its own key includes
            # the day (re-running a day replaces that day's snapshot; a new day adds one).
            yield dlt.mark.with_hints(rows, _SNAPSHOT_HINTS, create_table_variant=True)

    @dlt.resource(
        write_disposition="merge",
        primary_key=("org_id", "account_id", "product_key", "site_id", "last_active_date"),
        columns=schema.LAST_ACTIVE_COLUMNS,
    )
    def user_product_last_active() -> Iterator[list[dict[str, Any]]]:
        for snap in snapshots:
            yield from _last_active_rows(snap)

    @dlt.resource(
        write_disposition="merge",
        primary_key=("org_id", "snapshot_date", "account_id", "product_key", "site_id"),
        columns=schema.ACCESS_COLUMNS,
    )
    def user_product_access() -> Iterator[list[dict[str, Any]]]:
        for snap in snapshots:
            records = snap.users()
            if not snap.bulk_supported:
                continue  # access then comes from group grants alone (see the dbt access model)
            assert snap.context is not None
            yield [
                row
                for record in records
                for row in mappers.access_rows_from_product_access(
                    record.row["account_id"], record.product_access or [], snap.context
                )
            ]

    @dlt.resource(
        write_disposition="replace", primary_key=("org_id", "group_id"), columns=schema.GROUP_COLUMNS
    )
    def groups() -> Iterator[dict[str, Any]]:
        for snap in snapshots:
            for item in snap.groups():
                yield mappers.group_row(item, snap.org_id)

    @dlt.resource(
        write_disposition="replace",
        primary_key=("org_id", "group_id", "product_key", "site_id", "role_id"),
        columns=schema.GRANT_COLUMNS,
    )
    def group_product_grants() -> Iterator[dict[str, Any]]:
        for snap in snapshots:
            api = snap.session.api
            for group in snap.groups():
                assignments = api.get_group_role_assignments(
                    snap.org_id, group.get("directoryId") or "-", group["id"]
                )
                yield from mappers.grant_rows(snap.org_id, group["id"], assignments)

    @dlt.resource(
        write_disposition="replace",
        primary_key=("org_id", "group_id", "account_id"),
        columns=schema.MEMBERSHIP_COLUMNS,
    )
    def group_memberships() -> Iterator[dict[str, Any]]:
        for snap in snapshots:
            records = snap.users()
            if all(record.group_ids is not None for record in records):
                for record in records:
                    for group_id in record.group_ids or []:
                        yield {
                            "org_id": snap.org_id,
                            "group_id": group_id,
                            "account_id": record.row["account_id"],
                        }
                continue
            # No `groups` expand: ask each group for its members through the users `groupIds` filter.
            for group in snap.groups():
                for account_id in snap.session.api.iter_group_member_ids(snap.org_id, group["id"]):
                    yield {"org_id": snap.org_id, "group_id": group["id"], "account_id": account_id}

    @dlt.resource(
        write_disposition="replace", primary_key=("org_id", "workspace_id"), columns=schema.WORKSPACE_COLUMNS
    )
    def workspaces() -> Iterator[dict[str, Any]]:
        for snap in snapshots:
            for item in snap.session.api.search_workspaces(snap.org_id):
                yield mappers.workspace_row(item, snap.org_id)

    @dlt.resource(
        write_disposition="merge", primary_key=("org_id", "action"), columns=schema.EVENT_ACTION_COLUMNS
    )
    def event_actions() -> Iterator[dict[str, Any]]:
        for snap in snapshots:
            for item in snap.session.api.list_event_actions(snap.org_id):
                yield mappers.event_action_row(item, snap.org_id)

    @dlt.resource(
        write_disposition="merge", primary_key=("org_id", "event_id"), columns=schema.AUDIT_EVENT_COLUMNS
    )
    def audit_events() -> Iterator[list[dict[str, Any]]]:
        state = dlt.current.resource_state().setdefault("stream_cursors", {})
        for snap in snapshots:
            yield from _audit_event_rows(snap, state)

    @dlt.resource(
        write_disposition="merge", primary_key=("run_id", "org_id"), columns=schema.EXTRACT_RUN_COLUMNS
    )
    def extract_runs() -> Iterator[dict[str, Any]]:
        for snap in snapshots:
            snap.users()  # a subset run without `users` still needs the snapshot time
            assert snap.context is not None
            stats = snap.session.api.stats
            complete_through = snap.context.extracted_at - _lag(run)
            yield {
                "run_id": run.run_id,
                "org_id": snap.org_id,
                "started_at": run.started_at,
                "finished_at": datetime.now(UTC),
                "extracted_at": snap.context.extracted_at,
                "activity_lag_hours": run.activity_lag_hours,
                "activity_complete_through": complete_through,
                "as_of_date": complete_through.date(),
                "last_active_strategy": "bulk" if snap.bulk_supported else "per_user",
                "api_calls": stats.calls,
                "api_retries": stats.retries,
                "api_rate_limited": stats.rate_limited,
                "users_loaded": snap.counts["users"],
                "last_active_rows_loaded": snap.counts["last_active"],
                "events_loaded": snap.counts["events"],
                "status": "running",  # until the run finishes: pipeline/runtime/run_records.py
            }

    return (
        orgs,
        directories,
        users,
        user_product_last_active,
        user_product_access,
        groups,
        group_product_grants,
        group_memberships,
        workspaces,
        event_actions,
        audit_events,
        extract_runs,
    )


def _last_active_rows(snap: _OrgSnapshot) -> Iterator[list[dict[str, Any]]]:
    records = snap.users()
    context = snap.context
    assert context is not None
    if snap.bulk_supported:
        rows = [
            row
            for record in records
            for row in mappers.last_active_rows_from_product_access(
                record.row["account_id"], record.product_access or [], context
            )
        ]
        snap.counts["last_active"] += len(rows)
        yield rows
        return
    # One call per user: hand the client a chunk at a time so its bounded concurrency stays busy while
    # memory stays flat, and report progress between chunks.
    account_ids = [record.row["account_id"] for record in records]
    chunk = USERS_PAGE_SIZE
    for start in range(0, len(account_ids), chunk):
        batch = account_ids[start : start + chunk]
        answers = snap.session.api.map_last_active_dates(snap.org_id, batch)
        rows = [
            row
            for account_id, answer in zip(batch, answers, strict=True)
            for row in mappers.last_active_rows_from_product_access(
                account_id, (answer or {}).get("product_access") or [], context
            )
        ]
        snap.counts["last_active"] += len(rows)
        snap.progress(
            "last_active", {"org_id": snap.org_id, "done": start + len(batch), "total": len(account_ids)}
        )
        yield rows


def _to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _audit_event_rows(snap: _OrgSnapshot, state: dict[str, str]) -> Iterator[list[dict[str, Any]]]:
    api, org_id, window = snap.session.api, snap.org_id, snap.run.events_window
    if window is not None:
        # A backfill window: stateless, so replaying it (or any overlap) merges onto the same event ids.
        pages = api.iter_events_stream(org_id, from_ms=_to_ms(window.start), to_ms=_to_ms(window.end) - 1)
    elif org_id in state:
        pages = api.iter_events_stream(org_id, cursor=state[org_id])
    else:
        since = api.server_now() - timedelta(days=AUDIT_RETENTION_DAYS)
        pages = api.iter_events_stream(org_id, from_ms=_to_ms(since))
    for page in pages:
        rows = [mappers.audit_event_row(item, org_id) for item in page.items]
        snap.counts["events"] += len(rows)
        snap.progress("events", {"org_id": org_id, "events": snap.counts["events"]})
        if rows:
            yield rows
        if window is None and page.next_cursor:
            # Kept in dlt state, which is committed with the same load as the rows: no gap, no double.
            state[org_id] = page.next_cursor
