"""dbt for the tests and benchmarks that run dbt themselves, against one warehouse file.

Two ways, for two needs:
- :func:`run_dbt`, a child process as the pipeline runs it, with dbt's printed output (the dbt project
  test reads its ``Done. PASS=…`` line).
- :func:`run_dbt_in_process`, for the daily loops (tests/history.py): dbt's ``dbtRunner`` in this process,
  with the project parsed once per process. A day's ``dbt run`` then skips dbt's start-up (~3 s of
  imports) and its parse (~3-8 s): most of a day's cost on 2 cores. dbt-duckdb keeps its database open
  until it is told to let go, which would lock out the next extract, so every call ends by closing it.

Artefacts and logs go to the caller's folder: the repo's target/ belongs to Dagster and developers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")


def _options(warehouse: Path, work: Path) -> list[str]:
    return [
        "--project-dir", str(PROJECT_DIR),
        "--profiles-dir", str(PROJECT_DIR),
        "--target-path", str(work / "target"),
        "--log-path", str(work / "logs"),
    ]  # fmt: skip


def run_dbt(warehouse: Path, work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SEATWATCH_WAREHOUSE_PATH": str(warehouse),
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    return subprocess.run(  # noqa: S603 (a fixed argv, no shell)
        [str(DBT), *args, *_options(warehouse, work)],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


# Parsed manifests by warehouse file name: dbt-duckdb names the database after it, and the manifest
# records that name; nothing else in the manifest depends on the warehouse.
_manifests: dict[str, Any] = {}


def run_dbt_in_process(warehouse: Path, work: Path, *args: str) -> None:
    """``dbt <args> --quiet`` on ``warehouse``; RuntimeError with dbt's reason when it fails."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    warehouse_var = json.dumps({"warehouse_path": str(warehouse)})
    options = [*_options(warehouse, work), "--vars", warehouse_var, "--quiet"]
    manifest = _manifests.get(warehouse.name)
    try:
        if manifest is None:
            parsed = dbtRunner().invoke(["parse", *options])
            if not parsed.success:
                raise RuntimeError(f"dbt parse failed: {parsed.exception}")
            manifest = _manifests[warehouse.name] = parsed.result
        result = dbtRunner(manifest=manifest).invoke([*args, *options])
    finally:
        DuckDBConnectionManager.close_all_connections()
    if not result.success:
        failed = [r.node.unique_id for r in getattr(result.result, "results", []) if r.status != "success"]
        raise RuntimeError(f"dbt {' '.join(args)} failed: {result.exception or failed}")
