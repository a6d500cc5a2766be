"""Publish benchmark: the marts of a large simulator org loaded into a real Postgres (the team's warehouse).

Builds the org's published copy as bench_scale does (generate, extract, dbt build, publish to DuckDB; each
in its own process), starts the suite's PostgreSQL 16 (pgserver, a Unix socket in a temporary folder), then
publishes to it twice with :func:`pipeline.team_warehouse.publish_to_destination`: the first publish
creates the tables, the second replaces them (the daily case). Prints wall and CPU seconds of each, rows
and rows per second.

    uv run python -m benchmarks.bench_publish                  # the 10,000-user org
    uv run python -m benchmarks.bench_publish --users 1000
    uv run python -m benchmarks.bench_publish --copy data/seatwatch.duckdb   # an existing copy
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_scale import STEPS, _run
from tests.support.postgres import start_server


def build_copy(users: int, data: Path) -> dict[str, object]:
    env = {**os.environ, "SEATWATCH_WAREHOUSE_PATH": str(data / "warehouse.duckdb"), "DO_NOT_TRACK": "1"}
    timings: dict[str, object] = {}
    for name in ("generate", "extract"):
        timings[name] = _run(name, [sys.executable, "-c", STEPS[name].format(users=users, data=data)], env)
    dbt = str(Path(sys.executable).with_name("dbt"))
    timings["dbt_build"] = _run(
        "dbt build",
        [dbt, "build", "--project-dir", "dbt_project", "--profiles-dir", "dbt_project",
         "--target-path", str(data / "target"), "--quiet"],
        env,
    )  # fmt: skip
    publish = [sys.executable, "-c", STEPS["publish"].format(data=data)]
    timings["publish_duckdb"] = _run("publish", publish, env)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--copy", type=Path, help="publish this seatwatch.duckdb instead of building one")
    args = parser.parse_args()
    from pipeline.config.offline import apply_offline_defaults
    from pipeline.team_warehouse import publish_to_destination

    apply_offline_defaults()
    data = Path(tempfile.mkdtemp(prefix="seatwatch-bench-publish-"))
    results: dict[str, object] = {}
    if args.copy is None:
        results["users"] = args.users
        results["build"] = build_copy(args.users, data)
        copy = data / "seatwatch.duckdb"
    else:
        copy = args.copy.resolve()
    servers = start_server()
    server = next(servers)
    try:
        database = server.database("bench")
        credentials = {"DESTINATION__POSTGRES__CREDENTIALS": server.url(database)}
        os.environ.update(credentials)  # dlt's configuration, as a team would set it
        for name in ("first_publish", "second_publish"):
            started_cpu, started = time.process_time(), time.monotonic()
            done = publish_to_destination(copy, data, "postgres", "seatwatch")
            wall = time.monotonic() - started
            results[name] = {
                "seconds": round(wall, 1),
                "cpu_seconds_this_process": round(time.process_time() - started_cpu, 1),
                "tables": done.tables,
                "rows": done.rows,
                "rows_per_second": round(done.rows / wall),
            }
        results["postgres_mb"] = round(int(server.psql(f"select pg_database_size('{database}')")) / 2**20)
    finally:
        servers.close()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
