"""Issue acceptance: 2,000 users loaded once a day for 30 simulated days; every day the marts agree with the
simulator's truth, and no reclaim candidate is a seat the user really used.

Each day: the real extract (in process, through the ASGI transport) and the dbt models the checks read
(``dbt run`` of just those models). About 5 minutes on 2 cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sources.helpers import extract_in_process, make_world, query, settings_for

pytestmark = pytest.mark.slow

PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")
USERS, DAYS = 2000, 30


def _dbt(target_path: Path, *command: str) -> None:
    # A subprocess, as the pipeline runs it: dbt-duckdb keeps its database open for the life of the
    # process, which would lock out the next day's extract.
    result = subprocess.run(  # noqa: S603 (a fixed argv)
        [
            str(DBT), *command,
            "--project-dir", str(PROJECT_DIR),
            "--profiles-dir", str(PROJECT_DIR),
            "--target-path", str(target_path),
            "--quiet",
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_thirty_days_of_daily_runs_match_the_truth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    world = make_world(USERS)
    settings = settings_for(world, tmp_path / "data")
    monkeypatch.setenv("SEATWATCH_WAREHOUSE_PATH", str(settings.warehouse_path))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "dbt-logs"))
    seen: set[str] = set()
    candidates_checked = 0
    for day in range(DAYS):
        if day:
            world.advance(1)
        extract_in_process(world, settings)
        if not day:
            _dbt(tmp_path / "target", "seed")
        _dbt(tmp_path / "target", "run", "--select", "+dim_users +fct_user_product_access")
        truth = world.truth()
        truth_users = {user["account_id"]: user for user in truth["users"]}
        status = dict(query(settings, "select account_id, lifecycle_status from marts.dim_users"))
        seen |= {account for account, user in truth_users.items() if not user["removed_at"]}

        # Every user the warehouse has ever seen has the truth's observable status (a user invited and
        # removed between two runs was never seen, so it is absent from both sides of the comparison).
        expected = {account: truth_users[account]["lifecycle_status"] for account in seen}
        wrong = {a: (expected[a], status.get(a)) for a in expected if status.get(a) != expected[a]}
        assert not wrong, f"day {day}: {len(wrong)} users differ, e.g. {list(wrong.items())[:5]}"
        assert set(status) == seen

        # Candidates are exactly the truth's, and each is a seat that was really idle at the as-of date.
        rows = query(
            settings,
            """select account_id, product_key, site_id, reclaim_reason
               from marts.fct_user_product_access where is_reclaim_candidate""",
        )
        truth_seats = {
            (account, seat["product_key"], seat["site_id"]): seat
            for account, user in truth_users.items()
            if not user["removed_at"]
            for seat in user["seats"]
        }
        expected_candidates = {
            (*key, seat["reclaim_reason"]) for key, seat in truth_seats.items() if seat["reclaim_reason"]
        }
        assert set(rows) == expected_candidates, f"day {day}"
        for account, product, site, reason in rows:
            if reason != "invite_not_accepted":
                assert truth_seats[(account, product, site)]["is_idle"], (day, account, product)
            else:
                assert truth_users[account]["latent_status"] in {"pending_invite", "accepted_not_yet_visible"}
            candidates_checked += 1
    assert candidates_checked > DAYS * 50
    assert os.environ["SEATWATCH_WAREHOUSE_PATH"] == str(settings.warehouse_path)
