"""``dbt build`` with one thread and with two, on the warehouse of one ``seatwatch run`` against a simulator
org of ``--users`` in its own process: wall and CPU seconds of each build, alternating.

    uv run python -m benchmarks.bench_dbt_threads --users 10000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.bench_scale import ROOT, start_simulator


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    bin_dir = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin"
    with tempfile.TemporaryDirectory(prefix="bench-dbt-threads-") as tmp:
        data = Path(tmp) / "data"
        simulator, variables = start_simulator(args.users, 17)
        try:
            env = {**os.environ, **variables, "SEATWATCH_DATA_DIR": str(data)}
            subprocess.run([str(bin_dir / "seatwatch"), "run", "--quiet"], env=env, cwd=ROOT, check=True)  # noqa: S603
        finally:
            simulator.terminate()
            simulator.wait()
        dbt_vars = json.dumps({"warehouse_path": str(data / "warehouse.duckdb")})
        results: dict[str, list[dict[str, float]]] = {"1": [], "2": []}
        for _ in range(args.rounds):
            for threads in ("2", "1"):
                cpu, started = _children_cpu(), time.monotonic()
                subprocess.run(  # noqa: S603 (a fixed argv)
                    [str(bin_dir / "dbt"), "build", "--exclude-resource-type", "unit_test",
                     "--project-dir", "dbt_project", "--profiles-dir", "dbt_project", "--vars", dbt_vars,
                     "--target-path", str(data / ".dbt"), "--log-path", str(data / ".dbt"),
                     "--threads", threads, "--quiet"],
                    cwd=ROOT, check=True,
                )  # fmt: skip
                results[threads].append(
                    {"wall": round(time.monotonic() - started, 1), "cpu": round(_children_cpu() - cpu, 1)}
                )
    print(json.dumps({"users": args.users, "threads": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
