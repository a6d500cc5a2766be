"""History benchmark and acceptance: 2,000 users loaded once a day for 30 simulated days; every day the marts
agree with the simulator's truth and no reclaim candidate is a seat the user really used.

Each day runs the real extract (in process) and ``dbt run`` of the models the comparison reads; the
comparison is the test suite's (tests/support/history.py, which the suite runs at 300 users for 6 days).
Exits 1 on the first day that disagrees.

    uv run python -m benchmarks.bench_history                      # 2,000 users, 30 days: minutes on 2 cores
    uv run python -m benchmarks.bench_history --users 500 --days 5
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from pipeline.config.offline import apply_offline_defaults
from tests.support.history import daily_runs_against_truth


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    apply_offline_defaults()
    started = time.perf_counter()
    extract = dbt = 0.0
    candidates = 0
    print(f"{'day':>4} {'users':>6} {'candidates':>10} {'extract s':>9} {'dbt s':>6}")
    with tempfile.TemporaryDirectory(prefix="bench_history_") as work:
        try:
            for day in daily_runs_against_truth(args.users, args.days, Path(work)):
                extract += day.extract_seconds
                dbt += day.dbt_seconds
                candidates += day.candidates.total()
                print(
                    f"{day.day:>4} {day.statuses.total():>6} {day.candidates.total():>10} "
                    f"{day.extract_seconds:>9.1f} {day.dbt_seconds:>6.1f}",
                    flush=True,
                )
        except AssertionError as error:
            print(f"bench_history: the marts disagree with the truth: {error}", file=sys.stderr)
            return 1
    total = time.perf_counter() - started
    print(
        f"{args.users} users × {args.days} days agree with the truth ({candidates:,} candidate seats "
        f"checked): {total:.0f} s in all, extract {extract:.0f} s, dbt {dbt:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
