"""Pacing benchmark: the per-user last-active fan-out against the embedded simulator's rate limit.

Prints the achieved rate as a share of the allowed one and the 429s received. The target is ≥ 90 % with no
429 (e.g. 600/min, 50 ms latency, 8 in flight). A window's requests are spread to its end, so use a whole
number of windows worth of calls (the default) for a fair figure.

    uv run python -m benchmarks.bench_pacing --limit 600 --window 60 --latency-ms 50 --concurrency 8
    uv run python -m benchmarks.bench_pacing --limit 100 --window 10 --windows 3     # quick look
"""

from __future__ import annotations

import argparse
import time

from pipeline.atlassian import SyncAdminApi
from pipeline.config.secret import Secret
from pipeline.simulator.model import DEFAULT_RATE_LIMITS, FaultConfig, SimulatorConfig
from pipeline.simulator.server import start_in_thread
from pipeline.simulator.world import World


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=600, help="last-active requests allowed per window")
    parser.add_argument("--window", type=float, default=60.0, help="window length, real seconds")
    parser.add_argument("--windows", type=int, default=2, help="how many windows of calls to make")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    calls = args.limit * args.windows
    config = SimulatorConfig(
        users=calls,
        rate_limits={**DEFAULT_RATE_LIMITS, "last_active": args.limit},
        rate_window_seconds=args.window,
        faults=FaultConfig(latency_ms=args.latency_ms),
    )
    world = World(config)
    with start_in_thread(world) as simulator:
        org_id = next(iter(world.orgs))
        with SyncAdminApi(simulator.base_url, Secret(world.api_key), max_concurrency=args.concurrency) as api:
            account_ids = [
                user["accountId"] for page in api.search_users(org_id, limit=100) for user in page.items
            ][:calls]
            started = time.monotonic()
            api.map_last_active_dates(org_id, account_ids)
            elapsed = time.monotonic() - started
            fan_out = api.stats.by_bucket["GET /v1/orgs/{}/directory/users/{}/last-active-dates"]

    allowed = args.limit / args.window
    achieved = len(account_ids) / elapsed
    print(
        f"{len(account_ids)} calls in {elapsed:.1f} s: {achieved:.2f}/s of {allowed:.2f}/s allowed "
        f"({achieved / allowed:.1%}); 429s: {fan_out.rate_limited}, retries: {fan_out.retries}"
    )


if __name__ == "__main__":
    main()
