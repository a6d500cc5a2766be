"""Asset checks beyond dbt's tests: is the data fresh, complete, and equal to what the API reports?

The checks that read DuckDB open it read-only for one query and claim the writer pool: a reader next to a
writer makes the writer fail at once, so they run as steps of the same run, after the writers, in process.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg

from pipeline.config.freshness import stale_after_hours, stale_orgs, utc
from pipeline.config.settings import Settings
from pipeline.config.shared import FINAL, ProgressFn
from pipeline.defs.ingest import EXTRACT_RUNS_KEY, USERS_KEY
from pipeline.defs.pools import DUCKDB_POOL
from pipeline.warehouse import connect


def _reported(progress: ProgressFn, name: str, result: dg.AssetCheckResult) -> dg.AssetCheckResult:
    """A lasting progress line per check for ``seatwatch run`` (dbt's tests are counted by dbt's step)."""
    progress(f"check {name}", {"result": "passed" if result.passed else "FAILED", FINAL: True})
    return result


def _query(path: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    with connect(path, read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


@dg.asset_check(
    asset=EXTRACT_RUNS_KEY,
    name="activity_is_fresh",
    description=(
        f"Every org's latest activity_complete_through is at most {stale_after_hours():g} h old "
        "(the dbt source freshness of raw.extract_runs)."
    ),
    pool=DUCKDB_POOL,
)
def activity_is_fresh(
    settings: dg.ResourceParam[Settings], progress: dg.ResourceParam[ProgressFn]
) -> dg.AssetCheckResult:
    rows = _query(
        settings.warehouse_path,
        "select org_id, max(activity_complete_through) from raw.extract_runs group by org_id",
    )
    latest = dict(rows)
    stale = stale_orgs(latest, datetime.now(UTC))
    return _reported(
        progress,
        "activity_is_fresh",
        dg.AssetCheckResult(
            passed=bool(latest) and not stale,
            metadata={
                "activity_complete_through": {org: utc(m).isoformat() for org, m in latest.items()},
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
def users_match_api_count(
    context: dg.AssetCheckExecutionContext,
    settings: dg.ResourceParam[Settings],
    progress: dg.ResourceParam[ProgressFn],
) -> dg.AssetCheckResult:
    # The load records the API's count (GET …/directories/-/users/count) in its metadata; the snapshot
    # rows that reached DuckDB under that run id are what it is compared with.
    event = context.instance.get_latest_materialization_event(USERS_KEY)
    materialization = event.asset_materialization if event else None
    if event is None or materialization is None or "api_user_count" not in materialization.metadata:
        reason = {"reason": "no load with an API user count yet"}
        return _reported(
            progress, "users_match_api_count", dg.AssetCheckResult(passed=False, metadata=reason)
        )
    api_counts = materialization.metadata["api_user_count"].value
    rows = _query(
        settings.warehouse_path,
        "select org_id, count(*) from raw.user_snapshots where run_id = ? group by org_id",
        [event.run_id],
    )
    mismatches = count_mismatches(api_counts, dict(rows))
    return _reported(
        progress,
        "users_match_api_count",
        dg.AssetCheckResult(
            passed=not mismatches,
            metadata={"api_user_count": api_counts, "loaded": dict(rows), "mismatches": mismatches},
        ),
    )


ALL_CHECKS = [activity_is_fresh, users_match_api_count]
