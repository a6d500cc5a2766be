"""Names and types several layers share, written once at the bottom so that no layer defines them again.

Dagster job names (the CLI, the schedule and ``seatwatch status`` must agree on them), the tags that say who
started a run and for which data folder, the progress callback every long step reports through, and the
facts of the Admin API that both the client and the simulator use.
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


# Facts of the Atlassian Admin API that the client and the simulator both keep.
ALL_DIRECTORIES = "-"  # the directory id that means every directory of the org
# The org audit log keeps 180 days; a first load takes all of it (invites live only there).
AUDIT_RETENTION_DAYS = 180


def no_progress(step: str, counters: dict[str, Any]) -> None:
    """Report nothing (runs launched from the UI report progress in their log only)."""
