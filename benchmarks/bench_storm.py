"""Issue 17's storm: thirty 429s in a row, at the start and in the middle of the extract, for both last-active
strategies (the suite's test uses five). Each must be waited out without using attempts (3 per request) and
load exactly the rows of a run without the storm. Exits 1 on a failed check.

    uv run python -m benchmarks.bench_storm                 # 30 refusals, 120 users, 4 storms (~4 min)
    uv run python -m benchmarks.bench_storm --storm 60
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from tests.support.storm import AT_START, MID_RUN, extract_through_storm


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--storm", type=int, default=30, help="429s in a row")
    parser.add_argument("--users", type=int, default=120)
    args = parser.parse_args()

    failed = False
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for strategy in ("bulk", "per_user"):
            clean, _ = extract_through_storm(
                root / f"{strategy}-clean", strategy, users=args.users, storm=args.storm, storm_at_call=None
            )
            for name, at_call in (("at start", AT_START), ("mid-run", MID_RUN[strategy])):
                started = time.monotonic()
                rows, stats = extract_through_storm(
                    root / f"{strategy}-{at_call}",
                    strategy,
                    users=args.users,
                    storm=args.storm,
                    storm_at_call=at_call,
                )
                seconds = time.monotonic() - started
                same = rows == clean
                bounded = args.storm <= stats.rate_limited <= args.storm + 10
                failed |= not (same and bounded)
                print(
                    f"{strategy:8} storm {name:8}: {stats.rate_limited} × 429 waited out in {seconds:.1f} s, "
                    f"{stats.retries} retries; rows "
                    f"{'identical to' if same else 'DIFFERENT from'} the clean run"
                    + ("" if bounded else f"; FAILED: expected {args.storm} to {args.storm + 10} × 429"),
                    file=sys.stderr if not (same and bounded) else sys.stdout,
                    flush=True,
                )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
