"""``seatwatch status``: recent runs per org, freshness, and whether the published copy is current."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from pipeline.config.errors import SeatwatchError
from pipeline.config.freshness import stale_after_hours
from pipeline.warehouse import connect


@dataclass
class OrgRun:
    org_id: str
    run_id: str
    extracted_at: datetime
    as_of_date: str
    activity_complete_through: datetime
    api_calls: int
    api_rate_limited: int
    users_loaded: int

    def age_hours(self, now: datetime) -> float:
        return (now - self.activity_complete_through).total_seconds() / 3600


def _runs(con: Any, table: str, limit: int) -> list[OrgRun]:
    rows = con.execute(
        f"""
        select org_id, run_id, extracted_at, as_of_date::varchar, activity_complete_through,
               api_calls, api_rate_limited, users_loaded
        from {table}
        qualify row_number() over (partition by org_id order by extracted_at desc, run_id desc) <= ?
        order by org_id, extracted_at desc
        """,
        [limit],
    ).fetchall()
    return [OrgRun(*row[:2], _utc(row[2]), row[3], _utc(row[4]), *row[5:]) for row in rows]


def _utc(moment: datetime | None) -> datetime | None:
    # The published copy stores UTC timestamps without a zone (readable without pytz); the warehouse with one.
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def read_status(warehouse: Path, published: Path, *, limit: int = 5) -> dict[str, Any]:
    if not warehouse.exists():
        raise SeatwatchError(f"No warehouse at {warehouse} yet: run `seatwatch run` first.")
    try:
        with connect(warehouse, read_only=True) as con:
            runs = _runs(con, "raw.extract_runs", limit)
        writer_busy = False
    except duckdb.IOException:
        # A run holds the write lock: fall back on the published copy, which readers may always open.
        runs, writer_busy = [], True
    published_runs: list[OrgRun] = []
    if published.exists():
        with connect(published, read_only=True) as con:
            published_runs = _runs(con, "marts.pipeline_runs", 1)
    latest: dict[str, str] = {}
    for run in runs:  # newest first per org
        latest.setdefault(run.org_id, run.run_id)
    published_latest = {run.org_id: run.run_id for run in published_runs}
    return {
        "runs": runs or published_runs,
        "writer_busy": writer_busy,
        "published_exists": published.exists(),
        "published_current": bool(published_latest) and (writer_busy or latest == published_latest),
    }


def format_status(
    status: dict[str, Any], warehouse: Path, published: Path, now: datetime | None = None
) -> str:
    now = now or datetime.now(UTC)
    lines = [f"Warehouse: {warehouse}" + ("  (a run is writing it now)" if status["writer_busy"] else "")]
    if not status["published_exists"]:
        lines.append(f"Published copy: {published} (missing: run `seatwatch run`)")
    else:
        current = (
            "current" if status["published_current"] else "behind the warehouse: the last run did not publish"
        )
        lines.append(f"Published copy: {published} ({current})")
    lines += [
        "",
        f"  {'org':<38} {'extracted at (API clock)':<26} {'as of':<10} {'age h':>6} {'calls':>6} {'429s':>5}",
    ]
    for run in status["runs"]:
        age = run.age_hours(now)
        stale = "  STALE" if age > stale_after_hours() else ""
        lines.append(
            f"  {run.org_id:<38} {run.extracted_at:%Y-%m-%d %H:%M:%S %Z}    {run.as_of_date:<10} {age:>6.1f} "
            f"{run.api_calls:>6} {run.api_rate_limited:>5}{stale}"
        )
    if not status["runs"]:
        lines.append("  no runs yet")
    lines.append("")
    lines.append(f"Age = hours since activity is complete; over {stale_after_hours():g} h is stale.")
    return "\n".join(lines)
