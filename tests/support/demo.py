"""The demo run that read-only tests share (the ``demo_run`` fixture in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest


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


@contextmanager
def reading(demo_run: DemoRun) -> Iterator[Path]:
    """The demo run's data folder and Dagster home as the configuration, read only (``seatwatch status``,
    ``report``, ``docs``); its published copy."""
    assert demo_run.exit_code == 0, demo_run.stderr
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SEATWATCH_DATA_DIR", str(demo_run.data_dir))
        env.setenv("DAGSTER_HOME", str(demo_run.dagster_home))
        yield demo_run.published
