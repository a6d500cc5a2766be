"""The one freshness rule: an org's data is stale when its activity is complete only up to more than
``STALE_AFTER_HOURS`` ago. The ``activity_is_fresh`` asset check and ``seatwatch status`` both apply it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

STALE_AFTER_HOURS = 48


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def age_hours(activity_complete_through: datetime, now: datetime) -> float:
    return round((now - _utc(activity_complete_through)).total_seconds() / 3600, 1)


def stale_orgs(
    latest: dict[str, datetime], now: datetime, max_age: timedelta = timedelta(hours=STALE_AFTER_HOURS)
) -> dict[str, float]:
    """Orgs whose activity is complete only up to longer ago than ``max_age``, with their age in hours."""
    ages = {org: age_hours(moment, now) for org, moment in latest.items()}
    return {org: age for org, age in ages.items() if age > max_age.total_seconds() / 3600}
