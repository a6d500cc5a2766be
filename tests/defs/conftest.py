"""Orchestration tests keep Dagster's state in their temporary folder, never in the project's home."""

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _temporary_dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
