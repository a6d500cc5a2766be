"""Issue 11 at full size: 2,000 users x 10 simulated days per API variant, compared with the truth daily.

For each variant (``--product-keys v1``, ``v2``, ``--product-access used``, and
``v2 + used + --reset-precision minute``): every day the real extract in process, ``dbt run`` of the
compared models, then ``dim_users.lifecycle_status`` against the truth for every user and the reclaim
candidates against the truth's idle seats. Prints one JSON line per variant (mismatches must all be 0),
with the API calls per day and how many of them read users' role assignments (direct grants).

    uv run python -m benchmarks.bench_variants                       # all four, about 4 x 4 minutes
    uv run python -m benchmarks.bench_variants --variant v1 --users 500 --days 3
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from tests.support.variants import VARIANTS, make_variant_world, run_variant


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--variant", action="append", choices=list(VARIANTS), help="default: all")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    failed = False
    for name in args.variant or list(VARIANTS):
        with tempfile.TemporaryDirectory(prefix=f"bench-variants-{name}-") as work:
            started = time.perf_counter()
            world = make_variant_world(args.users, args.seed, **VARIANTS[name])
            run = run_variant(name, world, Path(work), args.days)
            days = run.days
            summary = {
                "variant": name,
                "users": args.users,
                "days": args.days,
                "users_compared_last_day": days[-1].users,
                "wrong_status": sum(len(d.wrong_status) for d in days),
                "candidates_checked": sum(d.candidates for d in days),
                "false_candidates": sum(len(d.false_candidates) for d in days),
                "missing_candidates": sum(len(d.missing_candidates) for d in days),
                "untrusted_product_days": sum(len(d.untrusted) for d in days),
                "api_calls_per_day_median": sorted(d.api_calls for d in days)[len(days) // 2],
                # the calls the direct-grant reads add: one per user whose groups do not explain their roles
                "role_assignment_calls": sum(d.role_assignment_calls for d in days),
                "role_assignment_calls_per_day_max": max(d.role_assignment_calls for d in days),
                "extract_seconds_median": sorted(d.extract_seconds for d in days)[len(days) // 2],
                "dbt_seconds_median": sorted(d.dbt_seconds for d in days)[len(days) // 2],
                "total_seconds": round(time.perf_counter() - started, 1),
            }
        print(json.dumps(summary), flush=True)
        failed |= any(summary[k] for k in ("wrong_status", "false_candidates", "missing_candidates"))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
