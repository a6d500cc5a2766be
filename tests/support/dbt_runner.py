"""dbt for the tests and benchmarks that run dbt themselves, against one warehouse file.

dbt's ``dbtRunner`` in this process, with the project parsed once per process: a call then skips dbt's
start-up (~3 s of imports) and its parse (~3-8 s), most of a small ``dbt run``'s cost on 2 cores. The
pipeline itself runs dbt in a child process (dagster-dbt); what these callers check is the SQL, which is the
same either way. dbt-duckdb keeps its database open until told to let go, which would lock out the next
extract, so every call ends by closing it. Artefacts and logs go to the caller's folder: the repo's target/
belongs to Dagster and developers.
"""

from __future__ import annotations

import fcntl
import json
from pathlib import Path
from typing import Any

from pipeline.config.paths import DBT_PROJECT_DIR

PROJECT_DIR = DBT_PROJECT_DIR


def _options(warehouse: Path, work: Path) -> list[str]:
    return [
        "--project-dir", str(PROJECT_DIR),
        "--profiles-dir", str(PROJECT_DIR),
        "--target-path", str(work / "target"),
        "--log-path", str(work / "logs"),
    ]  # fmt: skip


# Parsed manifests by warehouse file name: dbt-duckdb names the database after it, and the manifest
# records that name; nothing else in the manifest depends on the warehouse.
_manifests: dict[str, Any] = {}
# Where every process of a test session parses (tests/conftest.py sets it under pytest-xdist): the first
# leaves dbt's partial-parse state there, the other workers then take dbt's partial parse (~1 s) instead of
# a full one (~8 s on 2 cores). Empty: each process parses in its caller's folder.
_shared_parse: list[Path] = []


def share_parse_state(folder: Path) -> None:
    _shared_parse[:] = [folder]


def _parse(warehouse: Path, work: Path) -> Any:
    from dbt.cli.main import dbtRunner

    folder = _shared_parse[0] if _shared_parse else work
    folder.mkdir(parents=True, exist_ok=True)
    # One warehouse path for every process (never opened: parsing does not connect), as dbt's partial parse
    # needs the same vars and profile; one process at a time, as dbt writes its state in place.
    stand_in = folder / warehouse.name
    with (folder / ".parse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        return dbtRunner().invoke(["parse", *_options(stand_in, folder), *_vars(stand_in), "--quiet"])


def _vars(warehouse: Path, **more: str) -> list[str]:
    return ["--vars", json.dumps({"warehouse_path": str(warehouse), **more})]


def run_dbt(warehouse: Path, work: Path, *args: str, **profile_vars: str) -> Any:
    """``dbt <args> --quiet`` on ``warehouse``: dbt's ``RunExecutionResult``, or RuntimeError naming what
    failed (a model, a data test that failed or warned, a unit test) and why. ``profile_vars``: more vars
    for profiles.yml, as the pipeline passes them (e.g. ``duckdb_memory_limit``)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    # The result comes back as an object: writing manifest.json and run_results.json (~1 s a call) is waste.
    profile = _vars(warehouse, **profile_vars)
    run_options = [*_options(warehouse, work), *profile, "--quiet", "--no-write-json"]
    manifest = _manifests.get(warehouse.name)
    try:
        if manifest is None:
            parsed = _parse(warehouse, work)
            if not parsed.success:
                raise RuntimeError(f"dbt parse failed: {parsed.exception}")
            manifest = _manifests[warehouse.name] = parsed.result
        result = dbtRunner(manifest=manifest).invoke([*args, *run_options])
    finally:
        DuckDBConnectionManager.close_all_connections()
    outcomes = getattr(result.result, "results", [])
    failed = [
        f"{r.node.unique_id} ({r.status}: {r.message})"
        for r in outcomes
        if r.status not in ("success", "pass")
    ]
    if not result.success or failed:
        raise RuntimeError(f"dbt {' '.join(args)} failed: {result.exception or failed}")
    return result.result
