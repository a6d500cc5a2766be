"""The demo run that read-only tests share (the ``demo_run`` fixture in tests/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DemoRun:
    """``seatwatch run`` with no credentials, as the README's quick start has a new user type it."""

    exit_code: int
    stdout: str
    stderr: str
    data_dir: Path

    @property
    def dagster_home(self) -> Path:
        """The data folder's own Dagster home: the demo run, like a new user, sets no DAGSTER_HOME."""
        return self.data_dir / ".dagster"

    @property
    def published(self) -> Path:
        return self.data_dir / "seatwatch.duckdb"
