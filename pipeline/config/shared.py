"""Names and types several layers share, written once at the bottom so that no layer defines them again.

Dagster job names (the CLI, the schedule and ``seatwatch status`` must agree on them), the tags that say who
started a run and for which data folder, and the progress callback every long step reports through.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

DAILY_JOB_NAME = "seatwatch_daily"
RECLAIM_JOB_NAME = "seatwatch_reclaim_apply"

TRIGGER_TAG = "seatwatch/trigger"
DATA_DIR_TAG = "seatwatch/data_dir"

# progress(step, counters): long steps report how far they are (the CLI draws it, Dagster logs it).
ProgressFn = Callable[[str, dict[str, Any]], None]
FINAL = "final"  # a counter key: this report is the step's last (for steps without done/total)
ELAPSED = "elapsed"  # a counter key: the step's duration in seconds, when the step measured it itself


def no_progress(step: str, counters: dict[str, Any]) -> None:
    """Report nothing (runs launched from the UI report progress in their log only)."""
