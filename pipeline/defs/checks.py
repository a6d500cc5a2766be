"""Asset checks beyond dbt's tests: is the data fresh, complete, and equal to what the API reports?

The checks that read DuckDB open it read-only for one query and claim the writer pool: a reader next to a
writer makes the writer fail at once, so they run as steps of the same run, after the writers, in process.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg

from pipeline.defs.ingest import AUDIT_EVENTS_KEY, EXTRACT_RUNS_KEY, USERS_KEY
from pipeline.defs.layout import DUCKDB_POOL
from pipeline.defs.partitions import audit_event_days
from pipeline.freshness import STALE_AFTER_HOURS, stale_orgs
from pipeline.progress import FINAL, terminal_reporter
from pipeline.settings import load_settings
from pipeline.warehouse import connect


def _reported(name: str, result: dg.AssetCheckResult) -> dg.AssetCheckResult:
    """A lasting progress line per check for ``seatwatch run`` (dbt's tests are counted by dbt's step)."""
    report = terminal_reporter()
    if report is not None:
        report(f"check {name}", {"result": "passed" if result.passed else "FAILED", FINAL: True})
    return result


def _query(path: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    with connect(path, read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dg.asset_check(
    asset=EXTRACT_RUNS_KEY,
    name="activity_is_fresh",
    description=f"Every org's latest activity_complete_through is at most {STALE_AFTER_HOURS} h old.",
    pool=DUCKDB_POOL,
)
def activity_is_fresh() -> dg.AssetCheckResult:
    rows = _query(
        load_settings().warehouse_path,
        "select org_id, max(activity_complete_through) from raw.extract_runs group by org_id",
    )
    latest = dict(rows)
    stale = stale_orgs(latest, datetime.now(UTC), timedelta(hours=STALE_AFTER_HOURS))
    return _reported(
        "activity_is_fresh",
        dg.AssetCheckResult(
            passed=bool(latest) and not stale,
            metadata={
                "activity_complete_through": {org: _utc(m).isoformat() for org, m in latest.items()},
                "stale_orgs_age_hours": stale,
            },
        ),
    )


def count_mismatches(api_counts: dict[str, int], loaded: dict[str, int]) -> dict[str, dict[str, int]]:
    return {
        org: {"api": count, "loaded": loaded.get(org, 0)}
        for org, count in api_counts.items()
        if loaded.get(org, 0) != count
    }


@dg.asset_check(
    asset=USERS_KEY,
    name="users_match_api_count",
    description="The users snapshot of the latest load holds as many users per org as the API counts.",
    pool=DUCKDB_POOL,
)
def users_match_api_count(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    # The load records the API's count (GET …/directories/-/users/count) in its metadata; the snapshot
    # rows that reached DuckDB under that run id are what it is compared with.
    event = context.instance.get_latest_materialization_event(USERS_KEY)
    materialization = event.asset_materialization if event else None
    if event is None or materialization is None or "api_user_count" not in materialization.metadata:
        reason = {"reason": "no load with an API user count yet"}
        return _reported("users_match_api_count", dg.AssetCheckResult(passed=False, metadata=reason))
    api_counts = materialization.metadata["api_user_count"].value
    rows = _query(
        load_settings().warehouse_path,
        "select org_id, count(*) from raw.user_snapshots where run_id = ? group by org_id",
        [event.run_id],
    )
    mismatches = count_mismatches(api_counts, dict(rows))
    return _reported(
        "users_match_api_count",
        dg.AssetCheckResult(
            passed=not mismatches,
            metadata={"api_user_count": api_counts, "loaded": dict(rows), "mismatches": mismatches},
        ),
    )


def missing_partitions(materialized: set[str], all_keys: Sequence[str]) -> list[str]:
    """Partitions between the first and the last materialised one that were never loaded."""
    loaded = [key for key in all_keys if key in materialized]
    if not loaded:
        return []
    first, last = all_keys.index(loaded[0]), all_keys.index(loaded[-1])
    return [key for key in all_keys[first : last + 1] if key not in materialized]


@dg.asset_check(
    asset=AUDIT_EVENTS_KEY,
    name="event_days_have_no_gaps",
    description="No day is missing between the first and the last loaded audit-event partition.",
)
def event_days_have_no_gaps(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    materialized = context.instance.get_materialized_partitions(AUDIT_EVENTS_KEY)
    missing = missing_partitions(materialized, audit_event_days.get_partition_keys())
    return _reported(
        "event_days_have_no_gaps",
        dg.AssetCheckResult(
            passed=bool(materialized) and not missing,
            metadata={
                "loaded_days": len(materialized),
                "missing_days": len(missing),
                "first_missing": missing[:10],
            },
        ),
    )


ALL_CHECKS = [activity_is_fresh, users_match_api_count, event_days_have_no_gaps]
