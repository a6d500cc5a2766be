"""The one freshness rule: how old ``activity_complete_through`` may be before the data counts as stale.

It is written once, as the dbt source freshness of ``raw.extract_runs`` (``error_after`` on
``activity_complete_through`` in ``dbt_project/models/staging/atlassian/_atlassian__sources.yml``), which
``dbt source freshness`` applies; the Dagster check ``activity_is_fresh`` and ``seatwatch status`` read it
from there.
"""

from __future__ import annotations

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
