"""Fail safe on a whole run: an activity key no alias knows stops reclaim, in one line, with exit 1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.simulator.model import SimulatorConfig
from pipeline.simulator.server import start_in_thread
from pipeline.simulator.world import World
from pipeline.warehouse import connect
from tests.support.extract import point_cli_at

pytestmark = pytest.mark.slow(runs=1)


def test_unknown_activity_key_fails_the_run_and_publishes_no_cleanup_ready(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world = World(SimulatorConfig(users=60, seed=3, activity_key_renames={"jira-software": "jira-unicorn"}))
    with start_in_thread(world) as simulator:
        point_cli_at(monkeypatch, simulator.base_url, world)
        assert main(["run", "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "jira-unicorn" in err[0] and "product_aliases.csv" in err[0] and "cleanup_ready" in err[0]
    published = Path(os.environ["SEATWATCH_DATA_DIR"]) / "seatwatch.duckdb"
    with connect(published, read_only=True) as con:
        lanes = dict(
            con.execute(
                "select reclaim_lane, count(*) from marts.license_reclamation_plan group by all"
            ).fetchall()
        )
    assert lanes.get("needs_review", 0) > 0 and "cleanup_ready" not in lanes
