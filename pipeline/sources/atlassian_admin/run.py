"""What a run is (its id, lag, strategy, start) and what it extracted, for its record in ``extract_runs``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt

from pipeline.sources.atlassian_admin import schema


@dataclass(frozen=True)
class OrgSession:
    """One org and the API client that may read it."""

    org_id: str
    api: Any  # pipeline.atlassian.SyncAdminApi (kept structural so tests can pass a fake)


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    activity_lag_hours: float
    strategy: str = "auto"
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    tables: frozenset[str] | None = None  # the resources this run loads (None: all of them)

    def loads(self, resource: str) -> bool:
        return self.tables is None or resource in self.tables


@dataclass
class OrgTally:
    """What one org's resources extracted in this run: the counts of its run record."""

    users: int = 0
    last_active: int = 0
    events: int = 0
    extracted_at: datetime | None = None  # the API's Date of the users snapshot
    strategy: str | None = None  # "bulk" or "per_user", as the users listing decided


class RunTally(dict[str, OrgTally]):
    """org_id → :class:`OrgTally`. Written by the resources, read by ``extract_runs`` after them; it carries
    counts only, never data another resource needs."""

    def __missing__(self, org_id: str) -> OrgTally:
        self[org_id] = tally = OrgTally()
        return tally


class ReadFailures(list[dict[str, Any]]):
    """The per-account refusals the per-user fan-outs went past (``user_read_failures`` rows), gathered
    while the data resources extract and loaded after them, like the run record. A transformer cannot write
    them itself: a dlt table variant starts from the resource's own column hints, which would give
    ``user_read_failures`` the columns (and NOT NULL keys) of the fan-out's table."""

    def add(self, context: Any, endpoint: str, account_id: str, failure: dict[str, Any]) -> None:
        """``context`` is the page's :class:`~.mappers.SnapshotContext`; ``failure`` status, code, reason."""
        self.append(
            {"org_id": context.org_id, "snapshot_date": context.snapshot_date, "account_id": account_id,
             "endpoint": endpoint, **failure}
        )  # fmt: skip


def user_read_failures(failures: ReadFailures) -> Any:
    """The refusals of this run, one row per account and endpoint. Extracted after the data resources."""

    @dlt.resource(name="user_read_failures", **schema.hints("user_read_failures"))
    def rows() -> Iterator[list[dict[str, Any]]]:
        if failures:
            yield list(failures)

    return rows


def extract_runs(sessions: Sequence[OrgSession], run: RunInfo, tally: RunTally) -> Any:
    """The run record, one row per org. Extracted after every other resource (see ``pipeline.extract``)."""

    @dlt.resource(name="extract_runs", **schema.hints("extract_runs"))
    def rows() -> Iterator[dict[str, Any]]:
        for session in sessions:
            org = tally[session.org_id]
            # A run without `users` (a subset picked in the UI) has no snapshot: the API's time now stands in.
            extracted_at = org.extracted_at or session.api.server_now()
            complete_through = extracted_at - timedelta(hours=run.activity_lag_hours)
            stats = session.api.stats
            yield {
                "run_id": run.run_id,
                "org_id": session.org_id,
                "started_at": run.started_at,
                "finished_at": datetime.now(UTC),
                "extracted_at": extracted_at,
                "activity_lag_hours": run.activity_lag_hours,
                "activity_complete_through": complete_through,
                "as_of_date": complete_through.date(),
                "last_active_strategy": org.strategy
                or ("per_user" if run.strategy == "per_user" else "bulk"),
                "api_calls": stats.calls,
                "api_retries": stats.retries,
                "api_rate_limited": stats.rate_limited,
                "users_loaded": org.users,
                "last_active_rows_loaded": org.last_active,
                "events_loaded": org.events,
                "status": "running",  # until the run finishes: pipeline/runtime/run_records.py
            }

    return rows
