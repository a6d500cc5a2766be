"""Seatwatch's run safety on a Dagster instance stored in Postgres (a team deployment, docs/team-setup.md):
a killed run is recovered and frees its pool slot, and a run waits for a live one, as on SQLite."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from pipeline.commands.guard import guarded_run
from pipeline.config.errors import SeatwatchError
from pipeline.config.settings import load_settings
from pipeline.runtime.instance import DAGSTER_YAML, POSTGRES_STORAGE_YAML, open_instance
from pipeline.runtime.processes import host
from pipeline.runtime.recovery import HOST_TAG, PID_START_TAG, PID_TAG, launch_tags, recover_dead_runs
from tests.support.dagster_runs import POOL, claim, dead_pid, started_run
from tests.support.postgres import PostgresServer


@pytest.fixture
def postgres_home(
    postgres_server: PostgresServer, postgres_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(DAGSTER_YAML + POSTGRES_STORAGE_YAML)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_PG_URL", postgres_server.sqlalchemy_url(postgres_database))
    return home


def test_a_killed_run_is_recovered_on_postgres(postgres_home: Path, tmp_path: Path) -> None:
    with open_instance(tmp_path / "data") as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        dead = started_run(instance, {PID_TAG: str(dead_pid()), PID_START_TAG: "", HOST_TAG: host()})
        claim(instance, dead.run_id)
        assert recover_dead_runs(instance, say=lambda _: None) == [dead.run_id]
        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
        assert instance.event_log_storage.get_concurrency_info(POOL).claimed_slots == []


def test_a_second_run_waits_for_a_live_one_on_postgres(postgres_home: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = load_settings({"SEATWATCH_DATA_DIR": str(data), "SEATWATCH_WAIT_TIMEOUT_SECONDS": "1"})
    with open_instance(data) as instance:
        live = started_run(instance, launch_tags(tmp_path / "elsewhere"))  # this process: alive
    said: list[str] = []
    with pytest.raises(SeatwatchError, match="Gave up after 1 s"), guarded_run(settings, say=said.append):
        pass
    assert said and said[0].startswith(f"Waiting for Dagster run {live.run_id[:8]}")
    with open_instance(data) as instance:
        assert instance.get_run_by_id(live.run_id).status == dg.DagsterRunStatus.STARTED
