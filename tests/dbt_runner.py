"""dbt in a child process against one warehouse file, for the tests and benchmarks that run dbt themselves.

A child process, as the pipeline runs it: dbt-duckdb keeps its database open for the life of its process,
which would lock out the next extract. Artefacts and logs go to the caller's folder: the repo's target/
belongs to Dagster and developers.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")


def run_dbt(warehouse: Path, work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SEATWATCH_WAREHOUSE_PATH": str(warehouse),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    command = [
        str(DBT), *args,
        "--project-dir", str(PROJECT_DIR),
        "--profiles-dir", str(PROJECT_DIR),
        "--target-path", str(work / "target"),
        "--log-path", str(work / "logs"),
    ]  # fmt: skip
    return subprocess.run(  # noqa: S603 (a fixed argv, no shell)
        command, env=env, capture_output=True, text=True, timeout=600, check=False
    )
