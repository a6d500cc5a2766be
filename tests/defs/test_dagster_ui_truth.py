"""Issue 12: what the Dagster UI shows is true. After `seatwatch run` on a new data folder (the shared demo
run: a new user's first command) every asset the run built is materialized, nothing is shown as missing or
failed (the audit log is read from where the last load stopped, so no asset is partitioned into days a run
might skip), and a run against another data folder leaves this folder's history unchanged (each data folder
has its own Dagster home)."""

from __future__ import annotations

from contextlib import redirect_stderr, redirect_stdout
from io import StringIO
from pathlib import Path

import dagster as dg
import pytest

from pipeline.cli import main
from pipeline.commands.dagster_home import project_instance
from pipeline.definitions import defs
from pipeline.readers.run_history import TEAM_WAREHOUSE_KEY
from pipeline.simulator.model import SimulatorConfig
from pipeline.simulator.server import start_in_thread
from pipeline.simulator.world import World
from tests.support.demo import DemoRun
from tests.support.extract import point_cli_at

pytestmark = pytest.mark.slow


def _history(instance: dg.DagsterInstance) -> tuple[list[str], dict[dg.AssetKey, int]]:
    runs = [record.dagster_run.run_id for record in instance.get_run_records()]
    graph = defs.resolve_asset_graph()
    latest = {
        key: event.run_id
        for key in graph.materializable_asset_keys
        if (event := instance.get_latest_materialization_event(key)) is not None
    }
    return runs, latest


def test_a_new_data_folder_shows_every_asset_materialized_and_another_folder_leaves_it_alone(
    demo_run: DemoRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert demo_run.exit_code == 0, demo_run.stderr
    monkeypatch.delenv("DAGSTER_HOME")  # each data folder's own home, as a user without DAGSTER_HOME has
    with project_instance(demo_run.data_dir) as instance:
        runs, latest = _history(instance)
        [run] = instance.get_run_records()
        assert run.dagster_run.status == dg.DagsterRunStatus.SUCCESS
    graph = defs.resolve_asset_graph()
    # Nothing partitioned: no day can be shown as missing or failed.
    assert all(graph.get(key).partitions_def is None for key in graph.materializable_asset_keys)
    # Every asset of the daily job was materialized by that one run; the team's warehouse only where one is
    # configured (the demo has none: that step is skipped, and the UI says so rather than show a publish).
    optional = {dg.AssetKey(TEAM_WAREHOUSE_KEY)}
    assert set(latest) == set(graph.materializable_asset_keys) - optional
    assert set(latest.values()) == set(runs) == {run.dagster_run.run_id}

    # Another data folder: its own home, the first one's left unchanged. Its run stops at the extract (a key
    # the events endpoints refuse): a Dagster run all the same, in seconds rather than a whole run's minute.
    world = World(SimulatorConfig(users=20, seed=3, scoped_key=True))
    with start_in_thread(world) as simulator:
        point_cli_at(monkeypatch, simulator.base_url, world, data_dir=tmp_path / "second")
        with redirect_stdout(StringIO()), redirect_stderr(StringIO()) as err:
            assert main(["run", "--quiet"]) == 2, err.getvalue()
    with project_instance(demo_run.data_dir) as instance:
        assert _history(instance) == (runs, latest)
    with project_instance(tmp_path / "second") as instance:
        [other] = instance.get_run_records()
        assert other.dagster_run.status == dg.DagsterRunStatus.FAILURE
