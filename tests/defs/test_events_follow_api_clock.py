"""Issue 16: the audit log is read on the API's clock, so no event is lost or doubled across days, whatever
the local clock says, and every run records how many events it loaded (CLI, Dagster and schedule alike)."""

from datetime import datetime, timedelta

import dagster as dg
import pytest

from pipeline.cli import main
from pipeline.config.settings import Settings, load_settings
from pipeline.config.shared import DAILY_JOB_NAME
from pipeline.definitions import defs
from pipeline.defs.schedules import daily_schedule
from pipeline.defs.translator import dlt_asset_key
from pipeline.simulator.model import SimulatorConfig
from pipeline.simulator.server import start_in_thread
from pipeline.simulator.world import World
from pipeline.warehouse import connect
from tests.support.demo import DemoRun
from tests.support.extract import point_cli_at

pytestmark = pytest.mark.slow

# The events endpoint allows 10 calls a minute; pacing is the client's business, not this test's.
LIMITS = {"events": 1000, "last_active": 10000, "default": 10000}
USERS = 100  # any size: each simulated day suspends someone, so every day has an event


def _suspend_someone(world: World) -> None:
    """A write through the simulator's write side, so that the day has at least one new audit event whatever
    the date the world starts from (whether the org's own life brings one that day depends on the date)."""
    for org in world.orgs.values():
        user = next(u for u in org.users.values() if u.status == "active" and u.is_human)
        assert world.writes.suspend(org, user)


def _served(world: World) -> set[tuple[str, str]]:
    """Every event the API's /events-stream serves now (the simulator's own list, in stream order)."""
    return {(org, event.id) for org in world.orgs for event in world.audit_events(org)}


def _ids(settings: Settings, table: str) -> list[tuple[str, str]]:
    with connect(settings.warehouse_path, read_only=True) as con:
        return [tuple(row) for row in con.execute(f"select org_id, event_id from {table}").fetchall()]


def _events_loaded(settings: Settings, run_id: str) -> int:
    with connect(settings.warehouse_path, read_only=True) as con:
        sql = "select sum(events_loaded) from raw.extract_runs where run_id = ?"
        return con.execute(sql, [run_id]).fetchone()[0]


def _seatwatch_extract(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract", "--quiet"]) == 0
    capsys.readouterr()


def _last_extract_events(settings: Settings) -> int:
    """Events the newest extract (``seatwatch extract`` records its run as ``seatwatch run`` does) loaded.
    Newest by dlt load, not ``extracted_at``: that is the API's clock, which the simulator holds still
    between two advances."""
    with connect(settings.warehouse_path, read_only=True) as con:
        sql = """select sum(events_loaded) from raw.extract_runs
                 where _dlt_load_id = (select max(_dlt_load_id) from raw.extract_runs)"""
        return con.execute(sql).fetchone()[0]


@pytest.mark.parametrize("api_days_behind", [0, 2], ids=["api-clock-in-step", "api-clock-2-days-behind"])
def test_five_simulated_days_lose_and_double_no_event(
    api_days_behind: int,
    simulated_start: datetime,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every load goes through ``seatwatch extract``, the one extract path ``seatwatch run`` and Dagster
    runs take too (their run records: the two tests below)."""
    start = simulated_start - timedelta(days=api_days_behind)
    world = World(SimulatorConfig(users=USERS, seed=5, start=start, rate_limits=LIMITS))
    with start_in_thread(world) as simulator:
        point_cli_at(monkeypatch, simulator.base_url, world, org_id=",".join(world.orgs))
        settings = load_settings()
        loaded: set[tuple[str, str]] = set()
        # Days 1-4 one at a time, then two days' events at once (day 6), then the same day again.
        for advance in (0, 1, 1, 1, 2, 0):
            if advance:
                world.advance(advance)  # POST /_simulator/advance?days=N, the local clock left alone
                _suspend_someone(world)
            _seatwatch_extract(capsys)
            raw = _ids(settings, "raw.audit_events")
            assert len(raw) == len(set(raw))  # 0 duplicated
            assert _served(world) - set(raw) == set()  # 0 missing
            assert _last_extract_events(settings) == len(set(raw) - loaded)  # the run record is right
            # The first load and every simulated day bring new events to count; the same day again, none.
            assert set(raw) > loaded if advance or not loaded else set(raw) == loaded
            loaded = set(raw)


def test_a_seatwatch_run_records_the_events_it_loaded(demo_run: DemoRun) -> None:
    """The CLI's run record, published (the shared demo run, a first load: every event is new), and the marts
    hold exactly the raw events."""
    assert demo_run.exit_code == 0, demo_run.stderr
    with connect(demo_run.data_dir / "warehouse.duckdb", read_only=True) as con:
        raw = con.execute("select org_id, event_id from raw.audit_events").fetchall()
        mart = con.execute("select org_id, event_id from marts.fct_audit_events").fetchall()
    with connect(demo_run.published, read_only=True) as con:
        [(loaded,)] = con.execute("select events_loaded from marts.pipeline_runs").fetchall()
    assert len(raw) == len(set(raw)) > 0 and sorted(mart) == sorted(raw)
    assert loaded == len(raw)


def test_dagster_and_schedule_runs_record_the_events_they_loaded(
    simulated_start: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs launched from the UI or the schedule resolve their own settings; their run record is right."""
    world = World(SimulatorConfig(users=30, seed=5, start=simulated_start, rate_limits=LIMITS))
    raw_assets = [
        key
        for key in defs.get_repository_def().asset_graph.get_all_asset_keys()
        if key.path[0].startswith("dlt_")
    ]
    with start_in_thread(world) as simulator, dg.DagsterInstance.ephemeral() as instance:
        point_cli_at(monkeypatch, simulator.base_url, world, org_id=",".join(world.orgs))
        settings = load_settings()
        job = defs.resolve_job_def(DAILY_JOB_NAME)

        from_ui = job.execute_in_process(instance=instance, asset_selection=raw_assets)
        assert from_ui.success
        first = set(_ids(settings, "raw.audit_events"))
        assert _events_loaded(settings, from_ui.run_id) == len(first) > 0

        world.advance(1)
        _suspend_someone(world)
        context = dg.build_schedule_context(instance=instance, repository_def=defs.get_repository_def())
        [request] = daily_schedule.evaluate_tick(context).run_requests
        scheduled = job.execute_in_process(instance=instance, asset_selection=raw_assets, tags=request.tags)
        assert scheduled.success
        second = set(_ids(settings, "raw.audit_events"))
        assert second > first and _served(world) <= second
        assert _events_loaded(settings, scheduled.run_id) == len(second - first)
        assert dlt_asset_key("extract_runs") in {
            event.asset_key for event in scheduled.get_asset_materialization_events()
        }
