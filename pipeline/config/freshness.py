"""The one freshness rule: how old ``activity_complete_through`` may be before the data counts as stale.

It is written once, as the dbt source freshness of ``raw.extract_runs`` (``error_after`` on
``activity_complete_through`` in ``dbt_project/models/staging/atlassian/_atlassian__sources.yml``), which
``dbt source freshness`` applies; the Dagster check ``activity_is_fresh`` and ``seatwatch status`` read it
from there, through :func:`stale_orgs` and :func:`age_hours`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import yaml

from pipeline.config.paths import DBT_PROJECT_DIR

SOURCES_FILE = DBT_PROJECT_DIR / "models" / "staging" / "atlassian" / "_atlassian__sources.yml"
_HOURS_PER = {"minute": 1 / 60, "hour": 1, "day": 24}


@cache
def stale_after_hours(sources_file: Path = SOURCES_FILE) -> float:
    """Hours after which the latest run's activity is stale, from the dbt source freshness of extract_runs."""
    sources = yaml.safe_load(sources_file.read_text())["sources"]
    [table] = [
        table for source in sources if source["name"] == "raw" for table in source["tables"]
        if table["name"] == "extract_runs"
    ]  # fmt: skip
    config = table["config"]
    if config.get("loaded_at_field") != "activity_complete_through":
        raise ValueError(
            f"{sources_file}: extract_runs freshness must be measured on activity_complete_through"
        )
    error_after = config["freshness"]["error_after"]
    return float(error_after["count"]) * _HOURS_PER[error_after["period"]]


def utc(moment: datetime) -> datetime:
    """A moment in UTC; the published copy stores UTC timestamps without a zone (readable without pytz)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _age(activity_complete_through: datetime, now: datetime) -> float:
    return (now - utc(activity_complete_through)).total_seconds() / 3600


def age_hours(activity_complete_through: datetime, now: datetime) -> float:
    """The age in hours, rounded for display (staleness is judged on the exact age)."""
    return round(_age(activity_complete_through, now), 1)


def is_stale(activity_complete_through: datetime, now: datetime) -> bool:
    return _age(activity_complete_through, now) > stale_after_hours()


def stale_orgs(
    latest: dict[str, datetime], now: datetime, max_age: timedelta | None = None
) -> dict[str, float]:
    """Orgs whose activity is complete only up to longer ago than ``max_age`` (default: the rule above),
    with their age in hours."""
    limit = stale_after_hours() if max_age is None else max_age.total_seconds() / 3600
    ages = {org: _age(moment, now) for org, moment in latest.items()}
    return {org: round(age, 1) for org, age in ages.items() if age > limit}
