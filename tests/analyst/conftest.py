"""Analyst-facing tests read the session's demo run (tests/conftest.py), as a new user's first run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.demo import DemoRun


@pytest.fixture
def published(demo_run: DemoRun, monkeypatch: pytest.MonkeyPatch) -> Path:
    assert demo_run.exit_code == 0, demo_run.stderr
    monkeypatch.setenv("SEATWATCH_DATA_DIR", str(demo_run.data_dir))
    monkeypatch.setenv("DAGSTER_HOME", str(demo_run.dagster_home))  # read only (seatwatch status)
    return demo_run.published
