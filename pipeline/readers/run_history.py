"""What the Dagster instance recorded about the runs of the daily job: for ``seatwatch status``.

Read only: the instance is opened only when its ``dagster.yaml`` exists, and nothing is launched or written.
A run's outcome is Dagster's run status, refined by its asset checks (a run whose steps all succeeded but
whose checks failed ends ``seatwatch run`` with exit 1, so it is reported as ``checks failed``); a failed
run's reason is the same one line ``seatwatch run`` prints (:mod:`pipeline.readers.step_failures`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.config.shared import DAILY_JOB_NAME, DATA_DIR_TAG
from pipeline.readers.run_tags import trigger_of
from pipeline.readers.step_failures import failure_from_error_info, headline

# The daily job's name and the published copy's asset key, named here (pipeline.defs builds both from these)
# so that status reads the instance without loading the definitions.
PUBLISHED_COPY_KEY = "published_copy"
TEAM_WAREHOUSE_KEY = "team_warehouse"

SUCCEEDED = "succeeded"
CHECKS_FAILED = "checks failed"
FAILED = "failed"
_FINISHED_FAILED = {FAILED, CHECKS_FAILED, "canceled"}


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    trigger: str
    started_at: datetime | None
    finished_at: datetime | None
    outcome: str  # succeeded, checks failed, failed, canceled, running, queued, …
    reason: str | None  # one line, for a run that did not succeed

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 1)

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    @property
    def is_failure(self) -> bool:
        return self.outcome in _FINISHED_FAILED

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "trigger": self.trigger,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "duration_seconds": self.duration_seconds,
            "outcome": self.outcome,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class WarehousePublish:
    """The latest outcome of the ``team_warehouse`` step: the marts published to the team's warehouse,
    or the reason it failed (a run whose copy was written but whose warehouse publish was refused)."""

    run_id: str
    published: bool
    at: datetime | None
    where: str | None  # destination:dataset, when published
    rows: int | None
    reason: str | None  # one line, when it failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "outcome": "published" if self.published else "failed",
            "at": self.at.isoformat() if self.at else None,
            "where": self.where,
            "rows": self.rows,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class History:
    runs: list[RunRecord]  # newest first
    published_by_run: str | None  # the run that last wrote this data folder's published copy
    warehouse: WarehousePublish | None = None  # the latest publish to the team's warehouse, if any
    last_warehouse_publish: WarehousePublish | None = None  # the latest that succeeded
    policy_pass: dict[str, str] | None = None  # the reclaim policy step's latest materialisation

    @property
    def latest_finished(self) -> RunRecord | None:
        return next((run for run in self.runs if run.finished), None)

    @property
    def latest_success(self) -> RunRecord | None:
        return next((run for run in self.runs if run.outcome in (SUCCEEDED, CHECKS_FAILED)), None)


def _moment(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)


@contextmanager
def _read_instance(home: Path) -> Iterator[Any]:
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        yield instance


def _failed_step(instance: Any, run_id: str) -> str | None:
    """The step a failed run failed in, first one a person can act on (as ``_outcome`` reports it)."""
    from dagster import DagsterEventType

    logs = instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE)
    failures = [
        failure_from_error_info(entry.step_key or "run", entry.dagster_event.event_specific_data.error)
        for entry in logs
        if entry.dagster_event.event_specific_data.error is not None
    ]
    head = headline(failures)
    return head.step if head is not None else None


def _last_warehouse_publish(instance: Any) -> WarehousePublish | None:
    import dagster as dg

    records = instance.fetch_materializations(dg.AssetKey(TEAM_WAREHOUSE_KEY), limit=1).records
    if not records:
        return None
    record = records[0]
    metadata = record.asset_materialization.metadata if record.asset_materialization else {}

    def value(key: str) -> Any:
        return metadata[key].value if key in metadata else None

    where = f"{value('destination')}:{value('dataset')}" if "destination" in metadata else None
    return WarehousePublish(record.run_id, True, _moment(record.timestamp), where, value("rows"), None)


def _outcome(instance: Any, run: Any) -> tuple[str, str | None]:
    from dagster import DagsterEventType, DagsterRunStatus

    status = run.status
    if status == DagsterRunStatus.SUCCESS:
        logs = instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
        failed = []
        for entry in logs:
            evaluation = entry.dagster_event.event_specific_data
            if not evaluation.passed and evaluation.severity.value == "ERROR":
                failed.append(evaluation.check_name)
        if failed:
            return CHECKS_FAILED, f"{len(failed)} check(s) failed: {', '.join(sorted(failed))}."
        return SUCCEEDED, None
    if status == DagsterRunStatus.FAILURE:
        logs = instance.all_logs(
            run.run_id, of_type={DagsterEventType.STEP_FAILURE, DagsterEventType.RUN_FAILURE}
        )
        failures = [
            failure_from_error_info(entry.step_key or "run", entry.dagster_event.event_specific_data.error)
            for entry in logs
            if entry.dagster_event.event_type == DagsterEventType.STEP_FAILURE
            and entry.dagster_event.event_specific_data.error is not None
        ]
        head = headline(failures)
        if head is not None:
            return FAILED, head.message
        run_failure = [entry.message for entry in logs if entry.message]
        return FAILED, (
            run_failure[0].splitlines()[0] if run_failure else "see the run's log in `seatwatch ui`."
        )
    if status == DagsterRunStatus.CANCELED:
        return "canceled", "the run was canceled."
    return status.value.lower().replace("_", " "), None


POLICY_STEP_KEY = "reclaim_policy"


def _latest_policy_pass(instance: Any) -> dict[str, str] | None:
    """The reclaim policy step's latest materialisation (mode, counts, problems), None before any."""
    import dagster as dg

    events = instance.fetch_materializations(dg.AssetKey(POLICY_STEP_KEY), limit=1).records
    if not events or events[0].asset_materialization is None:
        return None
    metadata = events[0].asset_materialization.metadata
    return {"run_id": events[0].run_id, **{key: str(value.value) for key, value in metadata.items()}}


def read_history(home: Path, data_dir: Path, published: Path, *, limit: int = 5) -> History:
    """The newest runs of the daily job for ``data_dir``, and which run last published its copy.

    Runs tagged with another data folder are left out (an instance may be shared by several data folders);
    runs without the tag (launched from the UI or by the schedule) are kept.
    """
    if not (home / "dagster.yaml").exists():
        return History([], None)
    import dagster as dg

    with _read_instance(home) as instance:
        records = instance.get_run_records(
            filters=dg.RunsFilter(job_name=DAILY_JOB_NAME), limit=max(limit * 4, 20)
        )
        runs = []
        for record in records:
            tags = record.dagster_run.tags
            if tags.get(DATA_DIR_TAG, str(data_dir)) != str(data_dir):
                continue
            outcome, reason = _outcome(instance, record.dagster_run)
            runs.append(
                RunRecord(
                    run_id=record.dagster_run.run_id,
                    trigger=trigger_of(tags),
                    started_at=_moment(record.start_time),
                    finished_at=_moment(record.end_time),
                    outcome=outcome,
                    reason=reason,
                )
            )
            if len(runs) == limit:
                break
        last_publish = _last_warehouse_publish(instance)
        warehouse = last_publish
        for run in runs:
            if last_publish is not None and run.run_id == last_publish.run_id:
                break
            if run.outcome == FAILED and _failed_step(instance, run.run_id) == TEAM_WAREHOUSE_KEY:
                warehouse = WarehousePublish(run.run_id, False, run.finished_at, None, None, run.reason)
                break
        published_by = None
        events = instance.fetch_materializations(dg.AssetKey(PUBLISHED_COPY_KEY), limit=50).records
        for event in events:
            materialization = event.asset_materialization
            path = materialization.metadata.get("path") if materialization else None
            if path is not None and Path(str(path.value)) == published:
                published_by = event.run_id
                break
        policy = _latest_policy_pass(instance)
    return History(runs, published_by, warehouse, last_publish, policy)
