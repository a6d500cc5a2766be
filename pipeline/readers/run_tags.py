"""Tags that say who started a Dagster run and for which data folder, read back by ``seatwatch status``.

``seatwatch run`` tags its runs ``seatwatch/trigger: cli``; the schedule's runs carry Dagster's own
``dagster/schedule_name`` tag and backfills ``dagster/backfill``; a run with none of these was launched from
the UI (or Dagster's GraphQL API), which offers no hook to tag at launch.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pipeline.config.shared import DATA_DIR_TAG, TRIGGER_TAG

CLI = "cli"
# Dagster's system tags (dagster._core.storage.tags), spelled out to keep this module free of Dagster.
SCHEDULE_NAME_TAG = "dagster/schedule_name"
SENSOR_NAME_TAG = "dagster/sensor_name"
BACKFILL_ID_TAG = "dagster/backfill"


def cli_run_tags(data_dir: Path) -> dict[str, str]:
    return {TRIGGER_TAG: CLI, DATA_DIR_TAG: str(data_dir)}


def trigger_of(tags: Mapping[str, str]) -> str:
    """``CLI``, ``schedule``, ``sensor``, ``backfill`` or ``UI``."""
    if tags.get(TRIGGER_TAG) == CLI:
        return "CLI"
    if SCHEDULE_NAME_TAG in tags:
        return "schedule"
    if SENSOR_NAME_TAG in tags:
        return "sensor"
    if BACKFILL_ID_TAG in tags:
        return "backfill"
    return "UI"
