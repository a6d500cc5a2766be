"""One in-process run of the daily job: what ``seatwatch run`` executes.

It runs the same job as the schedule, on the project's Dagster instance (so the run shows in the UI, and its
steps take turns with those of a run launched from the UI on the ``duckdb_writer`` pool: an in-process run
skips the run queue, but not the pools), with one difference: the audit-event days. The schedule runs
the newest complete day; a run by hand also catches up every retained day never loaded before, in the same
run (one pass over the API for the whole range). On a fresh warehouse that is the API's 180 days, which the
invitation and lifecycle models need; afterwards it is the newest day again, or the days a stopped
schedule missed.
"""

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb

from pipeline.definitions import defs
from pipeline.defs.ingest import AUDIT_EVENTS_KEY
from pipeline.defs.partitions import retained_partition_keys
from pipeline.defs.schedules import DAILY_JOB_NAME
from pipeline.warehouse import connect

# Dagster's tags for one run over a partition range (what a single-run backfill sets).
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def _warehouse_has_events(warehouse: Path) -> bool:
    """Whether this warehouse holds audit events at all. The Dagster instance is shared by every data folder
    (``SEATWATCH_DATA_DIR``), so its partition record alone cannot tell that a new warehouse has none."""
    if not warehouse.exists():
        return False
    try:
        with connect(warehouse, read_only=True) as con:
            found = con.execute(
                "select count(*) from duckdb_tables()"
                " where schema_name = 'raw' and table_name = 'audit_events'"
            ).fetchone()
            return (
                bool(found and found[0])
                and con.execute("select count(*) from raw.audit_events").fetchone()[0] > 0
            )
    except duckdb.IOException:
        return True  # a writer holds it, so it is in use: trust the instance's record


def event_days_to_load(
    instance: dg.DagsterInstance, warehouse: Path, now: datetime | None = None
) -> tuple[str, str]:
    """From the first retained day never loaded into this warehouse (or the newest day, when all are) to
    the newest day."""
    keys = retained_partition_keys(now)
    if not _warehouse_has_events(warehouse):
        return keys[0], keys[-1]
    loaded = instance.get_materialized_partitions(AUDIT_EVENTS_KEY)
    missing = [key for key in keys if key not in loaded]
    return (missing[0] if missing else keys[-1]), keys[-1]


def partition_tags(first: str, last: str) -> Mapping[str, str]:
    return {} if first == last else {RANGE_START_TAG: first, RANGE_END_TAG: last}


def run_daily_job(
    instance: dg.DagsterInstance,
    warehouse: Path,
    *,
    log_level: str = "INFO",
    tags: Mapping[str, str] | None = None,
) -> dg.ExecuteInProcessResult:
    """Execute the daily job in this process (inside :func:`api_override` to reuse a started demo org)."""
    first, last = event_days_to_load(instance, warehouse)
    return defs.resolve_job_def(DAILY_JOB_NAME).execute_in_process(
        instance=instance,
        partition_key=last if first == last else None,
        tags={**partition_tags(first, last), **(tags or {})},
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        raise_on_error=False,
    )


def step_failures(result: dg.ExecuteInProcessResult) -> list[str]:
    """One line per failed step: its innermost cause (our one-line error), not Dagster's wrapper."""
    lines = []
    for event in result.all_events:
        if not event.is_step_failure or event.step_failure_data.error is None:
            continue
        error = event.step_failure_data.error
        while error.cause is not None:
            error = error.cause
        lines.append(f"{event.step_key}: {error.message.strip().splitlines()[0]}")
    return lines


def failed_checks(result: dg.ExecuteInProcessResult) -> list[dg.AssetCheckEvaluation]:
    """Checks of severity ERROR that did not pass (warnings are reported in the UI only)."""
    return [
        evaluation
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    ]
