"""The dbt project, with a manifest that is always current when definitions load.

``@dbt_assets`` needs ``target/manifest.json`` at import time. Asking every user (and CI) to run
``dbt parse`` first is a trap: a fresh clone would not load, and a stale manifest silently shows an old
graph. So loading the definitions parses the project when the manifest is missing or older than any file
of the project. This is the one thing done at import time that touches more than Python: it runs
``dbt parse`` (a few seconds, offline, no warehouse access) only when the dbt project changed, under a
file lock so the UI's code server and a run worker never parse at once. dagster-dbt's
``prepare_if_dev()`` only acts under ``dagster dev``, which is why it is not used.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from dagster_dbt import DbtProject

from pipeline.config.offline import OFFLINE_ENV
from pipeline.config.paths import DBT_PROJECT_DIR
from pipeline.runtime.children import dbt_executable, guarded_run

# Artefacts of dbt runs, not inputs of the manifest.
_NOT_SOURCES = {"target", "logs", "dbt_packages"}


def _project_files(project_dir: Path) -> Iterator[Path]:
    for path in project_dir.iterdir():
        if path.name in _NOT_SOURCES or path.name.startswith("."):
            continue
        if path.is_dir():
            yield from (child for child in path.rglob("*") if child.is_file())
        else:
            yield path


def manifest_is_stale(project: DbtProject) -> bool:
    if not project.manifest_path.exists():
        return True
    built = project.manifest_path.stat().st_mtime
    return any(path.stat().st_mtime > built for path in _project_files(project.project_dir))


def _parse(project: DbtProject) -> None:
    # Parsing renders profiles.yml but never opens the warehouse, so it is safe while a run writes it.
    env = {**OFFLINE_ENV, **os.environ}  # a user's explicit choice wins, as in apply_offline_defaults
    guarded_run(
        [
            dbt_executable(),
            "parse",
            "--quiet",
            "--project-dir",
            str(project.project_dir),
            "--profiles-dir",
            str(project.profiles_dir),
        ],
        env=env,
        check=True,
    )


@cache
def seatwatch_dbt_project() -> DbtProject:
    project = DbtProject(project_dir=DBT_PROJECT_DIR)  # profiles.yml lives in the project folder
    lock_path = project.project_dir / project.target_path / ".parse.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if manifest_is_stale(project):
            _parse(project)
    return project
