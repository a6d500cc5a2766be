"""The project-local Dagster home: runs, schedules and logs stay inside the project folder.

Without ``DAGSTER_HOME`` Dagster would keep nothing (``materialize``) or use a temporary folder in the
working directory with telemetry on (``dagster dev``). ``seatwatch run`` and ``seatwatch ui`` use
``.dagster_home/`` in the project root unless the user set ``DAGSTER_HOME``, and create it with:

* telemetry off (the project runs offline), and the UI's first-visit newsletter pop-up off (``nux``);
* one slot per concurrency pool and one run at a time, so only one step ever holds the DuckDB file. Runs
  launched from the UI queue; ``seatwatch run`` executes in process, outside the queue, but its steps still
  wait for the ``duckdb_writer`` slot. A process killed hard (SIGKILL) keeps its slot: free it on the
  pool's page in the UI;
* storage in the default place, i.e. SQLite files under the home folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from pipeline.config.paths import DAGSTER_HOME_DIR

DAGSTER_YAML = """\
# Created by seatwatch (pipeline/commands/dagster_home.py). Storage defaults to SQLite files in this folder.
telemetry:
  enabled: false
nux:
  enabled: false   # no newsletter pop-up on the first visit of the UI
concurrency:
  pools:
    default_limit: 1   # the duckdb_writer pool: one step holds data/warehouse.duckdb at a time
  runs:
    max_concurrent_runs: 1
"""


def dagster_home() -> Path:
    """The Dagster home in use, without creating it (``seatwatch status`` only reads it)."""
    return Path(os.environ.get("DAGSTER_HOME") or DAGSTER_HOME_DIR)


def ensure_dagster_home() -> Path:
    """The Dagster home: ``DAGSTER_HOME`` when the user set it, else the project's; created if missing."""
    home = dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    return home


def project_instance() -> dg.DagsterInstance:
    """The instance of that home, opened from its folder (``DAGSTER_HOME`` is never written)."""
    return dg.DagsterInstance.from_config(str(ensure_dagster_home()))
