"""Daily loads of a simulated org compared with the simulator's truth, day after day.

Each day: the real extract (in process, through the ASGI transport) and the dbt models the checks read
(``dbt run`` of just those models), then every user's lifecycle status and every reclaim candidate is
compared with ``World.truth()``. The test suite runs a small org for a few days
(tests/test_history_against_truth.py); ``benchmarks/bench_history.py`` runs the 2,000-user, 30-day
acceptance with timings. :func:`daily_loads` is also the daily loop of tests/support/variants.py.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.config.settings import Settings
from pipeline.extract.run import ExtractResult
from pipeline.simulator.world import World
from tests.support.dbt_runner import run_dbt
from tests.support.extract import extract_in_process, make_world, query, settings_for


@dataclass(frozen=True)
class Day:
    day: int
    statuses: Counter[str]  # lifecycle status → users, over every user the warehouse has seen
    candidates: Counter[str]  # reclaim reason → candidate seats
    extract_seconds: float
    dbt_seconds: float


@dataclass(frozen=True)
class Load:
    day: int
    extract: ExtractResult  # the extract's own account: API calls per org and bucket
    extract_seconds: float
    dbt_seconds: float


NO_TESTS = ("--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")


def daily_loads(world: World, settings: Settings, work: Path, days: int, select: str) -> Iterator[Load]:
    """``days`` daily loads, the first at the world's start, the world one day older before each next one:
    the real extract in process, then ``dbt run`` of ``select`` (with the seeds it reads, the first day)."""
    for day in range(days):
        if day:
            world.advance(1)
        started = time.perf_counter()
        extracted = extract_in_process(world, settings)
        done_extract = time.perf_counter()
        if day:
            run_dbt(settings.warehouse_path, work, "run", "--select", select)
        else:
            run_dbt(settings.warehouse_path, work, "build", "--select", select, *NO_TESTS)
        yield Load(day, extracted, done_extract - started, time.perf_counter() - done_extract)


def daily_runs_against_truth(users: int, days: int, work: Path, seed: int = 11) -> Iterator[Day]:
    """Load ``users`` once a day for ``days`` simulated days; AssertionError on the first disagreement."""
    world = make_world(users, seed=seed)
    settings = settings_for(world, work / "data")
    seen: set[str] = set()
    for load in daily_loads(world, settings, work, days, "+dim_users +fct_user_product_access"):
        day = load.day
        truth = world.truth()
        truth_users = {user["account_id"]: user for user in truth["users"]}
        status = dict(query(settings, "select account_id, lifecycle_status from marts.dim_users"))
        seen |= {account for account, user in truth_users.items() if not user["removed_at"]}

        # Every user the warehouse has ever seen has the truth's observable status (a user invited and
        # removed between two runs was never seen, so it is absent from both sides of the comparison).
        expected = {account: truth_users[account]["lifecycle_status"] for account in seen}
        wrong = {a: (expected[a], status.get(a)) for a in expected if status.get(a) != expected[a]}
        assert not wrong, f"day {day}: {len(wrong)} users differ, e.g. {list(wrong.items())[:5]}"
        assert set(status) == seen, f"day {day}"

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
        yield Day(
            day=day,
            statuses=Counter(status.values()),
            candidates=Counter(reason for *_, reason in rows),
            extract_seconds=load.extract_seconds,
            dbt_seconds=load.dbt_seconds,
        )
