"""The daily job end to end against a simulator thread: a first simulated day compared with ground truth,
then a second on which the activity data names an unknown product, so the fail safe stops reclaim for the
whole run; a reader holds the first day's published copy throughout. (That a normal day passes every
check is what the demo run shows; that daily runs agree with the truth day after day,
tests/test_history_against_truth.py.)"""

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from pipeline.cli import main
from pipeline.commands.runner import failed_checks, run_daily_job
from pipeline.config.settings import load_settings
from pipeline.readers.step_failures import step_failures
from pipeline.simulator.model import SimulatorConfig
from pipeline.simulator.server import start_in_thread
from pipeline.simulator.world import World
from pipeline.warehouse import connect
from tests.support.extract import point_cli_at

pytestmark = pytest.mark.slow(runs=2)

# A process of its own, as a BI tool would be: it opens the published copy, answers, waits, answers again.
READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
query = "select count(distinct snapshot_date) from marts.fct_user_status_daily"
print(con.execute(query).fetchone()[0], flush=True)
sys.stdin.readline()
print(con.execute(query).fetchone()[0], flush=True)
"""


FRESHNESS = "dlt_atlassian_admin_extract_runs:activity_is_fresh"


def _assert_ok(result: dg.ExecuteInProcessResult, *, stale: bool = False) -> None:
    assert result.success, step_failures(result.all_events)
    failed = [check.asset_check_key.to_user_string() for check in failed_checks(result)]
    assert failed == ([FRESHNESS] if stale else [])


def _lifecycle(published: Path) -> dict[str, str]:
    with connect(published, read_only=True) as con:
        return dict(con.execute("select account_id, lifecycle_status from marts.dim_users").fetchall())


def _assert_matches_truth(published: Path, world: World) -> None:
    truth = {user["account_id"]: user for user in world.truth()["users"]}
    loaded = _lifecycle(published)
    current = {account for account, user in truth.items() if user["removed_at"] is None}
    assert current <= set(loaded)
    wrong = {
        account: (status, truth[account]["lifecycle_status"])
        for account, status in loaded.items()
        if status != truth[account]["lifecycle_status"]
    }
    assert wrong == {}


def test_two_simulated_days_a_reader_and_the_fail_safe(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A day before now, whatever the time of day: the first run's activity, complete through now - 48 h, is
    # stale by the time its check runs; after one simulated day the world is at now, so activity is fresh
    # and the fail safe is the one thing the second run reports.
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    # The events endpoint allows 10 calls a minute; pacing is the client's business, not this test's.
    limits = {"events": 1000, "last_active": 10000, "default": 10000}
    world = World(SimulatorConfig(users=300, seed=11, start=start, rate_limits=limits))
    with start_in_thread(world) as simulator, dg.DagsterInstance.ephemeral() as instance:
        point_cli_at(monkeypatch, simulator.base_url, world, org_id=",".join(world.orgs))
        settings = load_settings()

        # The first simulated day is two days behind the wall clock: past 06:00 UTC its activity, complete
        # through yesterday-minus-one 06:00, is over 48 h old, and the freshness check says so.
        stale = datetime.now(UTC) - (start - world.lag) > timedelta(hours=48)
        _assert_ok(run_daily_job(instance, settings, log_level="WARNING"), stale=stale)
        _assert_matches_truth(settings.published_path, world)

        reader = subprocess.Popen(  # noqa: S603 (a fixed argv)
            [sys.executable, "-c", READER, str(settings.published_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert reader.stdout is not None and reader.stdin is not None
        assert reader.stdout.readline().strip() == "1"

        # Day 2: the activity data names a product no alias knows (a key renamed upstream). The fail safe
        # stops reclaim for the whole run: one line that names the key and the seed to fix, exit 1, and no
        # seat is published as cleanup_ready. The day is still published, and the reader keeps its copy.
        world.config.activity_key_renames = {"jira-software": "jira-unicorn"}
        world.advance(1)
        capsys.readouterr()
        assert main(["run", "--quiet"]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1, err
        assert "jira-unicorn" in err[0] and "product_aliases.csv" in err[0] and "cleanup_ready" in err[0]

        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "1"  # the old reader still reads its old copy
        assert reader.wait(timeout=30) == 0
        with connect(settings.published_path, read_only=True) as con:  # a new reader sees the new day
            dates = con.execute("select distinct snapshot_date from marts.fct_user_status_daily").fetchall()
            lanes = dict(
                con.execute(
                    "select reclaim_lane, count(*) from marts.license_reclamation_plan group by all"
                ).fetchall()
            )
        assert sorted(date for (date,) in dates) == [start.date(), world.now.date()]
        assert lanes.get("needs_review", 0) > 0 and "cleanup_ready" not in lanes
        # A re-run on the same simulated day that changes no event row: test_events_follow_api_clock.py.
