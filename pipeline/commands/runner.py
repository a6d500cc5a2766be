"""One in-process run of the daily job: what ``seatwatch run`` executes.

It runs the same job as the schedule, on the project's Dagster instance (so the run shows in the UI, and its
steps take turns with those of a run launched from the UI on the ``duckdb_writer`` pool: an in-process run
skips the run queue, but not the pools). The settings the command resolved (and the demo org it may have
started) and its terminal progress reach the assets as resources, nothing else; its tags say who started
the run (:mod:`pipeline.readers.run_tags`). A failed step is read back as one line by
:mod:`pipeline.readers.step_failures`.
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

from pipeline.config.settings import Settings
from pipeline.config.shared import DAILY_JOB_NAME, ProgressFn, no_progress
from pipeline.definitions import defs
from pipeline.defs.ingest import API_CLOCK_OFFSET, EXTRACT_RUNS_KEY
from pipeline.defs.resources import PROGRESS, SETTINGS


def run_daily_job(
    instance: dg.DagsterInstance,
    settings: Settings,
    *,
    progress: ProgressFn = no_progress,
    log_level: str = "INFO",
    tags: Mapping[str, str] | None = None,
) -> dg.ExecuteInProcessResult:
    """Execute the daily job in this process with ``settings`` as they are (no environment is read).

    ``tags`` name the launching process (see :func:`pipeline.runtime.recovery.launch_tags`), so a later run
    can tell a run whose process died from one still going."""
    return defs.resolve_job_def(DAILY_JOB_NAME).execute_in_process(
        instance=instance,
        tags=dict(tags or {}),
        resources={SETTINGS: settings, PROGRESS: progress},
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        raise_on_error=False,
    )


def failed_checks(result: dg.ExecuteInProcessResult) -> list[dg.AssetCheckEvaluation]:
    """Checks of severity ERROR that did not pass (warnings are reported in the UI only)."""
    return [
        evaluation
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    ]


def clock_offsets(result: dg.ExecuteInProcessResult) -> dict[str, float]:
    """Per org, the API's clock minus ours when the extract started, as the run recorded it."""
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        if materialization.asset_key == EXTRACT_RUNS_KEY and API_CLOCK_OFFSET in materialization.metadata:
            return dict(materialization.metadata[API_CLOCK_OFFSET].value)
    return {}
