"""Daily runs of the real extract and the dbt models against a simulator world, compared with its truth.

Shared by the acceptance test (tests/test_identity_variants.py, a small org) and the benchmark
(benchmarks/bench_variants.py, 2,000 users x 10 days). Every day: advance the world, extract in process
(the real client through the ASGI transport), ``dbt run`` the models the comparison reads, then compare
``dim_users.lifecycle_status`` with the truth for every user and the reclaim candidates with the truth's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.atlassian.endpoints import USER_ROLE_ASSIGNMENTS
from pipeline.simulator.model import CONTRACT_PRODUCT_KEYS, SimulatorConfig
from pipeline.simulator.world import World
from tests.support.extract import START, query, settings_for
from tests.support.history import daily_loads

SELECT = "+dim_users +fct_user_product_access +int_products__trust"
# High enough that the runs measure correctness, not pacing (bench_pacing.py measures that).
GENEROUS_LIMITS = {"events": 100_000, "last_active": 100_000, "default": 100_000}

VARIANTS: dict[str, dict[str, Any]] = {
    "v1": {"product_keys": "v1"},
    "v2": {"product_keys": "v2"},
    "used": {"product_access": "used"},
    "v2+used+minute": {"product_keys": "v2", "product_access": "used", "reset_precision": "minute"},
}


@dataclass
class DayResult:
    day: int
    users: int
    wrong_status: dict[str, tuple[str, str | None]]
    candidates: int
    false_candidates: set[tuple]
    missing_candidates: set[tuple]
    untrusted: list[tuple]
    cleanup_ready: dict[str, int]
    extract_seconds: float
    dbt_seconds: float
    api_calls: int = 0  # every request of the day's extract
    role_assignment_calls: int = 0  # of which per-user role-assignment reads (direct grants)


@dataclass
class VariantRun:
    name: str
    days: list[DayResult] = field(default_factory=list)


def make_variant_world(users: int, seed: int = 11, **options: Any) -> World:
    config = SimulatorConfig(
        users=users, seed=seed, start=START, rate_limits=dict(GENEROUS_LIMITS), **options
    )
    return World(config)


def compare(world: World, settings: Any, seen: set[str], day: int) -> DayResult:
    truth_users = {user["account_id"]: user for user in world.truth()["users"]}
    seen |= {account for account, user in truth_users.items() if not user["removed_at"]}
    status = dict(query(settings, "select account_id, lifecycle_status from marts.dim_users"))
    expected = {account: truth_users[account]["lifecycle_status"] for account in seen}
    wrong = {a: (expected[a], status.get(a)) for a in expected if status.get(a) != expected[a]}
    wrong |= {a: ("<absent>", status[a]) for a in set(status) - seen}
    rows = set(
        query(
            settings,
            """select account_id, product_key, site_id, reclaim_reason
               from marts.fct_user_product_access where is_reclaim_candidate""",
        )
    )
    expected_candidates = {
        (account, seat["product_key"], seat["site_id"], seat["reclaim_reason"])
        for account, user in truth_users.items()
        if not user["removed_at"]
        for seat in user["seats"]
        if seat["reclaim_reason"]
    }
    untrusted = query(
        settings,
        "select product_key, untrusted_reason from intermediate.int_products__trust where not is_trusted",
    )
    lanes = query(
        settings,
        """select product_key, count(*) from marts.fct_user_product_access
           where reclaim_lane = 'cleanup_ready' group by all""",
    )
    return DayResult(
        day=day,
        users=len(seen),
        wrong_status=wrong,
        candidates=len(rows),
        false_candidates=rows - expected_candidates,
        missing_candidates=expected_candidates - rows,
        untrusted=untrusted,
        cleanup_ready=dict(lanes),
        extract_seconds=0.0,
        dbt_seconds=0.0,
    )


def run_variant(name: str, world: World, work: Path, days: int, **env: str) -> VariantRun:
    """``days`` daily runs; the world starts at its configured start and moves one day between runs."""
    settings = settings_for(world, work / "data", **env)
    result = VariantRun(name)
    seen: set[str] = set()
    for load in daily_loads(world, settings, work, days, SELECT):
        outcome = compare(world, settings, seen, load.day)
        outcome.extract_seconds, outcome.dbt_seconds = load.extract_seconds, load.dbt_seconds
        stats = load.extract.api_stats.values()
        outcome.api_calls = sum(org.calls for org in stats)
        outcome.role_assignment_calls = sum(
            bucket.calls
            for org in stats
            for key, bucket in org.by_bucket.items()
            if key.endswith(USER_ROLE_ASSIGNMENTS)
        )
        result.days.append(outcome)
    return result


def direct_seats(world: World, *, unused_only: bool = False) -> set[tuple[str, str, str]]:
    """(account, product, site) of direct grants (no group), or only those never used: what productAccess
    does not list when it lists used products only, so only the users' role assignments show them."""
    seats = set()
    for org in world.orgs.values():
        for user in org.users.values():
            for product, site in user.direct_access:
                if not unused_only or (product, site) not in user.observed:
                    seats.add((user.account_id, CONTRACT_PRODUCT_KEYS[product], site))
    return seats
