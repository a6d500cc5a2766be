"""The Dagster home of a data folder: runs, schedules and logs stay next to the warehouse they describe.

``seatwatch run`` and ``seatwatch ui`` use ``<data folder>/.dagster/`` unless the user set ``DAGSTER_HOME``
(see :mod:`pipeline.runtime.instance`, which creates it once, under a lock, with telemetry off, one slot
per concurrency pool and one run at a time). The home is opened from its folder and handed to
``dagster dev`` in the child's own environment: ``DAGSTER_HOME`` is never written in this process.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipeline.runtime.instance import dagster_home, open_instance, prepare_home


def ensure_dagster_home(data_dir: Path) -> Path:
    """The data folder's Dagster home, created (once, safely) if missing."""
    return prepare_home(dagster_home(data_dir))


def project_instance(data_dir: Path) -> dg.DagsterInstance:
    """The data folder's Dagster instance, created on first use. Close it (``with``) when done."""
    return open_instance(data_dir)
