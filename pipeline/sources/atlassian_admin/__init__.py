"""dlt source for the Atlassian Admin (organizations) API.

One resource per raw table (see ``docs/architecture.md``). Every row carries ``org_id``; several orgs load in
one run, each through its own client (one API key per org).

How the calls are spent, cheapest first:

* users: v2 ``POST /directories/-/users/search`` with ``expand: [productAccess, groups]`` — one call per 100
  users gives the users, their group memberships, their product access and (``bulk``) their per-product
  last-active timestamps;
* ``per_user`` (or ``auto`` when the API refuses the ``productAccess`` expand): one
  ``last-active-dates`` call per user, fanned out with bounded concurrency and paced by the client;
* audit events: ``/events-stream`` (sorted by processing time, so late events are not missed) from the newest
  processing time already loaded (kept in dlt state) less an overlap, up to wherever the API has caught up.

The users listing is fetched once per org and shared by the resources that need it (``_OrgSnapshot``).
``extract_runs`` (:data:`RUN_RECORD_RESOURCE`) counts what the other resources extracted, so the extract path
loads it in a second package of the same run, after them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt

from pipeline.atlassian.errors import AtlassianApiError
from pipeline.sources.atlassian_admin import mappers, schema

log = logging.getLogger("seatwatch.extract")

SOURCE_NAME = "atlassian_admin"
RUN_RECORD_RESOURCE = "extract_runs"
# progress(step, counters): long steps report how far they are (the CLI draws it, Dagster logs it).
ProgressFn = Callable[[str, dict[str, Any]], None]
USERS_PAGE_SIZE = 100
# The org audit log keeps 180 days; a first load takes all of it (invites live only there).
AUDIT_RETENTION_DAYS = 180
# Each run re-reads the audit log from this long before the newest processing time it loaded. `from`
# filters on event time, and an event can be processed hours after it happened (Atlassian documents no
# bound; the simulator delays up to 8 h), so a late arrival is still read. Re-read events merge on their
# id, so the overlap costs a few calls and never a duplicate.
EVENTS_OVERLAP = timedelta(hours=24)
# Statuses of v2 search errors that mean "this expand or endpoint is not available here".
_UNSUPPORTED_STATUSES = {400, 404, 405, 501}

_SNAPSHOT_HINTS = dlt.mark.make_hints(
    table_name="user_snapshots",
    write_disposition="merge",
    primary_key=("org_id", "snapshot_date", "account_id"),
    columns=schema.USER_COLUMNS,
)


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
        state = dlt.current.resource_state().setdefault("events_processed_through", {})
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
                "status": "success",
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


def _processed_at(row: dict[str, Any]) -> datetime | None:
    raw = row.get("processed_at") or row.get("event_at")
    try:
        moment = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def events_start(state: dict[str, str], org_id: str, api_now: datetime) -> datetime:
    """Where this run reads the audit log from: the newest processing time already loaded, less
    :data:`EVENTS_OVERLAP`; on a first load the API's retention (180 days before the API's now)."""
    loaded_through = state.get(org_id)
    if loaded_through is None:
        return api_now - timedelta(days=AUDIT_RETENTION_DAYS)
    return datetime.fromisoformat(loaded_through) - EVENTS_OVERLAP


def _audit_event_rows(snap: _OrgSnapshot, state: dict[str, str]) -> Iterator[list[dict[str, Any]]]:
    # Both ends follow the API's clock, never ours: the start is a processing time the API served, and
    # the end is open (the stream stops where the API has caught up). So no gap opens between runs however
    # far the local clock is from the API's (docs/architecture.md, "Audit events").
    api, org_id = snap.session.api, snap.org_id
    previous = datetime.fromisoformat(state[org_id]) if org_id in state else None
    newest = previous
    since = events_start(state, org_id, api.server_now())
    for page in api.iter_events_stream(org_id, from_ms=_to_ms(since)):
        rows = [mappers.audit_event_row(item, org_id) for item in page.items]
        for row in rows:
            moment = _processed_at(row)
            # Counted once: an event of the overlap processed by the last load was counted by that load.
            if moment is None or previous is None or moment > previous:
                snap.counts["events"] += 1
            if moment is not None and (newest is None or moment > newest):
                newest = moment
        snap.progress("events", {"org_id": org_id, "events": snap.counts["events"]})
        if rows:
            yield rows
    if newest is not None and newest != previous:
        # Kept in dlt state, committed with the same load as the rows: a failed load moves nothing.
        state[org_id] = newest.isoformat()
