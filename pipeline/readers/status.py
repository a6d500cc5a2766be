"""``seatwatch status``: did the last runs succeed, and how old is the data readers see?

Read only, from two places: the Dagster instance (the runs: who started them, when, how long, how they
ended and why; see :mod:`pipeline.readers.run_history`) and the published copy (per org, the as-of date and
how far activity is complete, judged by the one freshness rule of :mod:`pipeline.config.freshness`). The
warehouse is never opened, so status works while a run writes it.

``healthy`` is false, and the command exits 1, when the latest finished run failed (its checks included),
when any org's published data is stale, or when there is no published copy yet.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.config.freshness import age_hours, is_stale, stale_after_hours, utc
from pipeline.readers.reclaim import ReclaimRun, format_reclaim, reclaim_runs
from pipeline.readers.run_history import History, read_history
from pipeline.runtime.refused import RefusedRun, latest_refused
from pipeline.warehouse import connect


@dataclass(frozen=True)
class OrgFreshness:
    org_id: str
    run_id: str
    as_of_date: str
    activity_complete_through: datetime
    age_hours: float
    stale: bool

    def to_dict(self) -> dict[str, Any]:
        return dict(asdict(self), activity_complete_through=self.activity_complete_through.isoformat())


@dataclass
class Status:
    data_dir: Path
    published_path: Path
    published_exists: bool
    history: History
    orgs: list[OrgFreshness] = field(default_factory=list)
    reclaim: list[ReclaimRun] = field(default_factory=list)
    # SEATWATCH_PUBLISH_DESTINATION:SEATWATCH_PUBLISH_DATASET, or None when the marts stay in DuckDB only.
    warehouse_target: str | None = None
    refused: RefusedRun | None = None

    @property
    def published_from_latest_success(self) -> bool | None:
        """None when the instance records no publication of this copy (e.g. another Dagster home)."""
        latest = self.history.latest_success
        if latest is None or self.history.published_by_run is None:
            return None
        return latest.run_id == self.history.published_by_run

    @property
    def problems(self) -> list[str]:
        found = []
        latest = self.history.latest_finished
        if latest is not None and latest.is_failure:
            found.append(f"the latest run {latest.run_id[:8]} {latest.outcome}: {latest.reason}")
        policy = self.history.policy_pass
        if policy and policy.get("problems", "none") != "none":
            found.append(f"the reclaim policy's last pass (run {policy['run_id'][:8]}): {policy['problems']}")
        if self.refused is not None:
            found.append(f"a run was refused before it started ({self.refused.at:%Y-%m-%d %H:%M} UTC): "
                         f"{self.refused.reason}")  # fmt: skip
        if not self.published_exists:
            found.append(f"no published copy at {self.published_path} yet: run `seatwatch run`.")
        stale = [org for org in self.orgs if org.stale]
        for org in stale:
            found.append(
                f"org {org.org_id}: activity complete through {org.age_hours:g} h ago, over the "
                f"{stale_after_hours():g} h limit: run `seatwatch run` "
                "(or check the schedule in `seatwatch ui`)."
            )
        return found

    @property
    def healthy(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "problems": self.problems,
            "data_dir": str(self.data_dir),
            "runs": [run.to_dict() for run in self.history.runs],
            "published": {
                "path": str(self.published_path),
                "exists": self.published_exists,
                "run_id": self.history.published_by_run,
                "from_latest_successful_run": self.published_from_latest_success,
            },
            "orgs": [org.to_dict() for org in self.orgs],
            "stale_after_hours": stale_after_hours(),
            "reclaim": [run.to_dict() for run in self.reclaim],
            "warehouse": {
                "target": self.warehouse_target,
                "latest": self.history.warehouse.to_dict() if self.history.warehouse else None,
                "last_published": (
                    self.history.last_warehouse_publish.to_dict()
                    if self.history.last_warehouse_publish
                    else None
                ),
            },
            "policy": self.history.policy_pass,
            "refused": (
                {"at": self.refused.at.isoformat(), "reason": self.refused.reason} if self.refused else None
            ),
        }


def _org_freshness(published: Path, now: datetime) -> list[OrgFreshness]:
    with connect(published, read_only=True) as con:
        rows = con.execute(
            """
            select org_id, run_id, as_of_date::varchar, activity_complete_through
            from marts.pipeline_runs
            qualify row_number() over (partition by org_id order by extracted_at desc, started_at desc) = 1
            order by org_id
            """
        ).fetchall()
    result = []
    for org_id, run_id, as_of, complete_through in rows:
        age, stale = age_hours(complete_through, now), is_stale(complete_through, now)
        result.append(OrgFreshness(org_id, run_id, as_of, utc(complete_through), age, stale))
    return result


def read_status(
    dagster_home: Path,
    data_dir: Path,
    published: Path,
    *,
    limit: int = 5,
    now: datetime | None = None,
    warehouse_target: str | None = None,
) -> Status:
    now = now or datetime.now(UTC)
    history = read_history(dagster_home, data_dir, published, limit=limit)
    exists = published.exists()
    orgs = _org_freshness(published, now) if exists else []
    reclaim = reclaim_runs(published) if exists else []
    refused = latest_refused(data_dir)
    latest = history.latest_finished
    if refused is not None and latest is not None and latest.started_at and latest.started_at > refused.at:
        refused = None  # a run started after the refusal: it says how things are now
    return Status(data_dir, published, exists, history, orgs, reclaim, warehouse_target, refused)


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment else "-"


def _format_warehouse(status: Status) -> list[str]:
    """The publish to the team's warehouse, an outcome of its own: a run can write the copy and fail here."""
    latest, last = status.history.warehouse, status.history.last_warehouse_publish
    if status.warehouse_target is None and latest is None:
        return []
    lines = ["", f"Team warehouse: {status.warehouse_target or 'not configured now'}"]
    if latest is not None and not latest.published:
        lines.append(f"  FAILED in run {latest.run_id[:8]} at {_when(latest.at)}: {latest.reason}")
    if last is not None:
        when = _when(last.at)
        run = last.run_id[:8]
        lines.append(f"  last published by run {run} at {when} to {last.where} ({last.rows} rows)")
    elif latest is None or latest.published:
        lines.append("  not published yet")
    return lines


def format_status(status: Status) -> str:
    lines = [f"Data folder: {status.data_dir}", "", "Latest runs (newest first, times UTC):"]
    if status.history.runs:
        lines.append(f"  {'run id':<8}  {'trigger':<8}  {'started':<19}  {'duration':>8}  outcome")
        for run in status.history.runs:
            duration = f"{run.duration_seconds:.0f} s" if run.duration_seconds is not None else "-"
            outcome = run.outcome + (f": {run.reason}" if run.reason else "")
            started = _when(run.started_at)
            lines.append(f"  {run.run_id[:8]:<8}  {run.trigger:<8}  {started:<19}  {duration:>8}  {outcome}")
    else:
        lines.append("  no runs recorded in the Dagster instance yet")
    lines.append("")
    if not status.published_exists:
        lines.append(f"Published copy: {status.published_path} (missing)")
    else:
        current = status.published_from_latest_success
        by = status.history.published_by_run
        origin = (
            "from the latest successful run"
            if current
            else f"from run {by[:8]}, not from the latest successful run"
            if current is False and by
            else "its run is not recorded in this Dagster instance"
        )
        lines.append(f"Published copy: {status.published_path} ({origin})")
        lines.append(
            f"  {'org':<38}  {'run id':<8}  {'as of':<10}  {'activity complete through':<25}  {'age h':>6}  "
            "fresh?"
        )
        for org in status.orgs:
            fresh = f"STALE (over {stale_after_hours():g} h)" if org.stale else "fresh"
            lines.append(
                f"  {org.org_id:<38}  {org.run_id[:8]:<8}  {org.as_of_date:<10}  "
                f"{_when(org.activity_complete_through):<25}  {org.age_hours:>6.1f}  {fresh}"
            )
    lines += format_reclaim(status.reclaim)
    lines += _format_warehouse(status)
    policy = status.history.policy_pass
    if policy and policy.get("mode", "off") != "off":
        counts = ", ".join(
            f"{policy.get(key, '0')} {key}" for key in ("noticed", "cancelled", "removed", "held", "failed")
        )
        lines += [
            "",
            f"Reclaim policy ({policy['mode']}), latest pass in run {policy['run_id'][:8]}: {counts}.",
        ]
    lines.append("")
    if status.healthy:
        lines.append("OK: the latest run succeeded and the data is fresh.")
    else:
        lines += [f"PROBLEM: {problem}" for problem in status.problems]
    return "\n".join(lines)
