"""The Dagster home of a data folder: runs, schedules and logs stay next to the warehouse they describe.

``seatwatch run`` and ``seatwatch ui`` use ``<data folder>/.dagster/`` unless the user set ``DAGSTER_HOME``
(see :mod:`pipeline.runtime.instance`, which creates it once, under a lock, with telemetry off, one slot
per concurrency pool and one run at a time).
"""

from __future__ import annotations

from pathlib import Path

from pipeline.runtime.instance import dagster_home, prepare_home


def ensure_dagster_home(data_dir: Path) -> Path:
    """The data folder's Dagster home, created (once, safely) if missing."""
    return prepare_home(dagster_home(data_dir))
