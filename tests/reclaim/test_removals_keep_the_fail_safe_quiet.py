"""Acting never stops the next run: ``seatwatch run`` → ``reclaim plan`` → ``reclaim apply --max N`` twice →
``seatwatch run`` exits 0, on both simulator behaviours of last-active data after a removal.

The fail safe (``int_products__trust``) stops reclaim when the as-of run saw activity on seats no access
explains. A removed seat whose activity is still seen is an ex-seat, not such a seat:

* ``drop`` (the default): the API no longer reports it, but the earlier run of the same simulated day (the
  clock stands still) observed it at the same ``extracted_at``, and the warehouse keeps every observation;
* ``keep``, the next day: v1 last-active-dates (the ``per_user`` strategy) still reports it.

The ``drop`` run is the whole ``seatwatch run``; the ``keep`` day is checked on what decides that run's
exit, the trust model, after ``seatwatch extract`` and dbt in this process (a third whole run would add
half a minute of CPU to the suite and test nothing the second does not).

Size, seed and batch are chosen so that the ex-seats alone are beyond the tolerance in one product: the
test checks that the rule before ex-seats (``unmatched + ended``) would have stopped reclaim on both days.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from pipeline.cli import main
from pipeline.simulator.model import SimulatorConfig
from pipeline.simulator.server import start_in_thread
from pipeline.simulator.world import World
from pipeline.warehouse import connect
from tests.support.dbt_runner import run_dbt
from tests.support.extract import point_cli_at

pytestmark = pytest.mark.slow(runs=2)

USERS, SEED, BATCH = 150, 30, 6
LIMITS = {"events": 100_000, "last_active": 100_000, "default": 100_000}
# dbt_project.yml: unmatched_activity_min_seats, unmatched_activity_tolerance
MIN_SEATS, TOLERANCE = 3, 0.05


def _trust(warehouse: Path) -> list[tuple[str, int, int, int, bool]]:
    with connect(warehouse, read_only=True) as con:
        return con.execute(
            "select product_key, observed_seats, ended_seats, unmatched_seats, is_trusted "
            "from intermediate.int_products__trust order by product_key"
        ).fetchall()


def _would_have_stopped(trust: list[tuple[str, int, int, int, bool]]) -> bool:
    """The rule that counted ex-seats as unmatched."""
    return any(
        unmatched + ended > MIN_SEATS and unmatched + ended > TOLERANCE * observed
        for _, observed, ended, unmatched, _ in trust
    )


def _run(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["run", "--quiet"])
    return code, capsys.readouterr().err


def test_two_batches_of_removals_then_a_run_exit_0_with_drop_and_keep(
    simulated_start, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = World(SimulatorConfig(users=USERS, seed=SEED, start=simulated_start, rate_limits=LIMITS))
    data = Path(os.environ["SEATWATCH_DATA_DIR"])
    warehouse, published, plan = data / "warehouse.duckdb", data / "seatwatch.duckdb", tmp_path / "plan.json"
    with start_in_thread(world) as simulator:
        point_cli_at(monkeypatch, simulator.base_url, world)
        code, err = _run(capsys)
        assert code == 0, err
        assert main(["reclaim", "plan", "--output", str(plan)]) == 0
        for _ in range(2):
            assert main(["reclaim", "apply", "--plan", str(plan), "--yes", "--max", str(BATCH)]) == 0
        acted = [w for w in world.writes.log if w.changed]
        assert len(acted) == 2 * BATCH and len({(w.group_id, w.account_id) for w in acted}) == 2 * BATCH

        # drop, the same simulated day
        code, err = _run(capsys)
        assert code == 0, err
        with connect(published, read_only=True) as con:
            verified = con.execute(
                "select count(*) from marts.reclaim_actions where state = 'verified'"
            ).fetchone()[0]
        assert verified == 2 * BATCH
        trust = _trust(warehouse)
        assert all(row[-1] for row in trust) and _would_have_stopped(trust), trust

        # keep, the next day: the last-active data reports the ex-seats again
        world.config.activity_after_removal = "keep"
        response = httpx.post(
            f"{simulator.base_url}/_simulator/advance",
            params={"days": 1},
            headers={"Authorization": f"Bearer {world.api_key}"},
        )
        assert response.status_code == 200, response.text
        monkeypatch.setenv("SEATWATCH_LAST_ACTIVE_STRATEGY", "per_user")
        assert main(["extract", "--quiet"]) == 0, capsys.readouterr().err
        run_dbt(warehouse, tmp_path, "run", "--select", "+int_products__trust")
        trust = _trust(warehouse)
        assert all(row[-1] for row in trust) and _would_have_stopped(trust), trust
