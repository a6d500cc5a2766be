"""Daily partitions of the audit log.

A partition is one UTC day of event time, and the partition set holds complete days only
(``end_offset=-1``): the audit events of day D are in soon after D ends, but the product activity of day D
(last-active dates) only shows once the API's 24-hour lag has passed, at D+2 00:00 UTC. So at 01:15 UTC on
day D the newest partition is D-2, which is exactly what the daily schedule runs, and nobody can backfill
a half-complete day by mistake. (A lag over 24 h, allowed by ``SEATWATCH_ACTIVITY_LAG_HOURS``, makes the
newest partition incomplete when it first runs; re-running it later merges the late events on their ids.)

The start date is fixed because partitions must be static. The Admin API only keeps 180 days of audit
log, so a backfill of older partitions succeeds with no rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg

from pipeline.sources.atlassian_admin import AUDIT_RETENTION_DAYS, EventsWindow

PARTITIONS_START = "2025-01-01"

audit_event_days = dg.DailyPartitionsDefinition(start_date=PARTITIONS_START, timezone="UTC", end_offset=-1)


def events_window(context: dg.AssetExecutionContext) -> EventsWindow:
    """The event-time window of a run: its day (or range, for a backfill run as one run).

    A run that includes the newest partition also reads every event after it, through the end of today:
    an invite sent yesterday must reach the marts now (it is what tells an invited user from one who was
    never invited), not two days later. Those events are merged again, on their ids, when their own day
    runs, so partitions still mean "this day is loaded completely".
    """
    window = context.partition_time_window
    newest = audit_event_days.time_window_for_partition_key(audit_event_days.get_last_partition_key())
    end = window.end if window.end < newest.end else newest.end + timedelta(days=2)  # end of today, UTC
    return EventsWindow(start=window.start, end=end)


def retained_partition_keys(now: datetime | None = None) -> list[str]:
    """Partitions the API can still serve events for: the last 180 days up to the newest complete day."""
    now = now or datetime.now(UTC)
    oldest = (now - timedelta(days=AUDIT_RETENTION_DAYS)).strftime("%Y-%m-%d")
    keys = audit_event_days.get_partition_keys(current_time=now)
    return [key for key in keys if key >= oldest]
