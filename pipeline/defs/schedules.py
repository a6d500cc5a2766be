"""The daily job and its schedule.

One job runs the whole graph: the extract (API snapshot, audit events since the last load, run record), dbt,
the checks and the published copy. The tick is at 01:15 UTC: the audit events of the day before are in by
then (the 15 minutes leave room for events processed just after midnight), and the activity of the day
before yesterday is complete through the API's 24-hour lag. A missed tick loses nothing: the next run reads
the audit log from where the last one stopped. Why there are no daily partitions: docs/architecture.md.
"""

from __future__ import annotations

import dagster as dg

from pipeline.config.shared import DAILY_JOB_NAME

daily_job = dg.define_asset_job(
    DAILY_JOB_NAME,
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="The whole graph: extract, dbt build, checks, published copy.",
)

daily_schedule = dg.ScheduleDefinition(
    name="seatwatch_daily_after_lag",
    job=daily_job,
    cron_schedule="15 1 * * *",
    execution_timezone="UTC",
    # Ticks only happen while the daemon runs (`seatwatch ui`), so on is the useful default.
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
