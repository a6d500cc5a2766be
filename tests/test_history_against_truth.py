"""Daily loads agree with the simulator's truth every day, and no reclaim candidate is a seat the user
really used: 150 users for 3 simulated days (tests/support/history.py has the comparison). Seed 36 is a
world of that size in which each of those days has candidates of every reason and the third day is the first
on which a user is removed, so that every status is compared at least once: each simulated day costs an
extract and a dbt run, so the test uses the fewest days that reach them all. The full comparison, 2,000
users for 30 days, is ``benchmarks/bench_history.py`` (numbers in benchmarks/README.md)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.support.history import daily_runs_against_truth

pytestmark = pytest.mark.slow

USERS, DAYS, SEED = 150, 3, 36


def test_three_days_of_daily_runs_match_the_truth(tmp_path: Path) -> None:
    days = list(daily_runs_against_truth(USERS, DAYS, tmp_path, seed=SEED))

    # The comparison meant something: the org changed over the days, through the statuses and reasons that
    # are easy to get wrong, and every day had candidates of each reason to compare.
    statuses = Counter[str]()
    for day in days:
        statuses |= day.statuses
        assert set(day.candidates) == {"inactive", "never_used", "invite_not_accepted"}, day
    assert {"invited_pending", "never_active", "inactive", "suspended", "removed"} <= set(statuses)
    assert days[0].statuses != days[-1].statuses
