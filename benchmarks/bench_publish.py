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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.postgres import start_server

ROOT = Path(__file__).resolve().parents[1]
STEPS = {
    "generate": """
from pipeline.simulator.model import SimulatorConfig
from pipeline.simulator.world import World
World(SimulatorConfig(users={users}, seed=7))
""",
    "extract": """
import httpx
from pipeline.extract.run import run_extract
from pipeline.config.settings import load_settings
from pipeline.simulator.app import create_app
from pipeline.simulator.model import SimulatorConfig
from pipeline.simulator.world import World
# Limits high enough that the numbers measure the pipeline, not the pacing (see bench_pacing.py for that).
limits = {{"events": 10, "last_active": 200, "default": 100000}}
world = World(SimulatorConfig(users={users}, seed=7, rate_limits=limits))
settings = load_settings({{"ATLASSIAN_ORG_ID": ",".join(world.orgs), "ATLASSIAN_API_KEY": world.api_key,
    "ATLASSIAN_API_BASE_URL": "https://simulator.test/admin", "SEATWATCH_DATA_DIR": "{data}"}})
run_extract(settings, client_options={{"transport": httpx.ASGITransport(app=create_app(world))}})
""",
    "publish": """
from pathlib import Path
from pipeline.warehouse import publish
publish(Path("{data}/warehouse.duckdb"), Path("{data}/seatwatch.duckdb"))
""",
}


def _run(name: str, argv: list[str], env: dict[str, str]) -> dict[str, float]:
    # RUSAGE_CHILDREN reports the largest child so far: run each step from a fresh helper process.
    # CPU seconds (user + system) next to the wall time: on a shared machine the wall time grows with the
    # load, the CPU time much less, so it is what compares runs made under different loads.
    wrapper = (
        "import resource, subprocess, sys, json; "
        "r = subprocess.run(sys.argv[1:]); "
        "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
        "print(json.dumps({'rc': r.returncode, 'peak_mb': u.ru_maxrss / 1024, "
        "'cpu_seconds': u.ru_utime + u.ru_stime}))"
    )
    started = time.monotonic()
    out = subprocess.run(  # noqa: S603 (fixed argv)
        [sys.executable, "-c", wrapper, *argv], env=env, capture_output=True, text=True, cwd=ROOT, check=False
    )
    elapsed = time.monotonic() - started
    report = json.loads(out.stdout.strip().splitlines()[-1])
    if report["rc"] != 0:
        sys.exit(f"{name} failed:\n{out.stderr[-4000:]}")
    return {
        "seconds": round(elapsed, 1),
        "cpu_seconds": round(report["cpu_seconds"], 1),
        "peak_mb": round(report["peak_mb"]),
    }


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
