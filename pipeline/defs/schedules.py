"""The daily job and its schedule.

One job runs the whole graph: the API snapshot, one day of audit events, dbt, the checks and the
published copy. Its partition is the events day; everything else is unpartitioned and observes "now".

Schedule: the partitions end one day early (``end_offset=-1``, see
:mod:`pipeline.defs.partitions`), and ``build_schedule_from_partitioned_job`` runs the newest partition at
01:15 UTC. At 01:15 on day D that is D-2, the last day whose events and activity are complete through
the 24-hour lag (complete at D 00:00 UTC). This was chosen over a hand-written schedule computing D-2
because the rule then lives in one place, the partition set: the schedule, ``seatwatch run``
and a backfill launched from the UI all agree on which days exist, and an incomplete day cannot be
selected at all. The 15 minutes leave room for events processed just after midnight. (The run also reads
the events after D-2 up to now, so that the marts know of yesterday's invites: see
:func:`pipeline.defs.partitions.events_window`.)
"""

from __future__ import annotations

import dagster as dg

DAILY_JOB_NAME = "seatwatch_daily"

daily_job = dg.define_asset_job(
    DAILY_JOB_NAME,
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="The whole graph for one audit-event day: extract, dbt build, checks, published copy.",
)

daily_schedule = dg.build_schedule_from_partitioned_job(
    daily_job,
    name="seatwatch_daily_after_lag",
    hour_of_day=1,
    minute_of_hour=15,
    # Ticks only happen while the daemon runs (`seatwatch ui`), so on is the useful default.
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
