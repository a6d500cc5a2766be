"""Scale benchmark: a large simulator org through the whole path, one step at a time.

Measures wall seconds, CPU seconds and peak memory (max RSS), each step in its own process so they
belong to that step alone:

1. generating the simulator org (``--users``, default 100,000);
2. the extract (bulk strategy, in process through the ASGI transport) into a fresh warehouse;
3. ``dbt build`` on that warehouse;
4. publishing the copy for readers.

    uv run python -m benchmarks.bench_scale                   # 100,000 users: a few minutes on 2 cores
    uv run python -m benchmarks.bench_scale --users 10000
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=100_000)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="seatwatch-bench-"))
    env = {**os.environ, "SEATWATCH_WAREHOUSE_PATH": str(data / "warehouse.duckdb"), "DO_NOT_TRACK": "1"}
    results: dict[str, object] = {"users": args.users}
    for name in ("generate", "extract"):
        code = STEPS[name].format(users=args.users, data=data)
        results[name] = _run(name, [sys.executable, "-c", code], env)
    dbt = str(Path(sys.executable).with_name("dbt"))
    results["dbt_build"] = _run(
        "dbt build",
        [dbt, "build", "--project-dir", "dbt_project", "--profiles-dir", "dbt_project",
         "--target-path", str(data / "target"), "--quiet"],
        env,
    )  # fmt: skip
    results["publish"] = _run("publish", [sys.executable, "-c", STEPS["publish"].format(data=data)], env)
    results["warehouse_mb"] = round((data / "warehouse.duckdb").stat().st_size / 2**20)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
