"""Scale benchmark: ``seatwatch run`` as a user starts it, against a large simulator org in its own process.

The simulator (``seatwatch simulator``, no latency, rate limits out of the way) runs in a process of its own
so its CPU is not counted as the pipeline's. Each ``seatwatch run`` is a fresh process, timed from start to
exit: wall seconds, CPU seconds (user + system of the run and every child it waited for, dbt included) and
peak memory of the whole process tree (the largest sum of the RSS of the run and its descendants, sampled
every 0.2 s) with the run process's own share at that moment, next to the largest single process
(``ru_maxrss``).

1. the first run on an empty data folder (with the audit log's 180-day catch-up);
2. a daily run after one simulated day (``POST /_simulator/advance?days=1``); ``--days N`` goes on to day N
   and reports every day, so day 30 can be compared with day 2.

    uv run python -m benchmarks.bench_scale --users 10000
    uv run python -m benchmarks.bench_scale --users 100000              # the issue's acceptance size
    uv run python -m benchmarks.bench_scale --users 10000 --days 30     # day 30's run against day 2's
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NO_LIMIT = str(10**9)
SAMPLE_SECONDS = 0.2


def _children() -> dict[int, list[int]]:
    """ppid → pids, from /proc."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def _tree_rss_mb(root: int) -> tuple[float, float]:
    """The RSS of ``root`` and all its descendants, and of ``root`` alone."""
    tree, todo, total, own = _children(), [root], 0, 0
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, []))
        try:
            rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            continue
        total += rss
        own += rss if pid == root else 0
    return total / 2**20, own / 2**20


def timed(argv: list[str], env: dict[str, str], log: Path) -> dict[str, float]:
    """Run ``argv`` to its end: wall and CPU seconds, peak RSS of its process tree and of its largest
    process."""
    started = time.monotonic()
    with log.open("wb") as out:
        child = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
        peak_tree = run_at_peak = 0.0
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            tree, own = _tree_rss_mb(child.pid)
            if tree > peak_tree:
                peak_tree, run_at_peak = tree, own
            time.sleep(SAMPLE_SECONDS)
    elapsed = time.monotonic() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"{' '.join(argv[:2])} failed ({child.returncode}); its output: {log}")
    return {
        "seconds": round(elapsed, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_tree_mb": round(peak_tree),
        "run_process_at_peak_mb": round(run_at_peak),  # the rest of the peak is its children (dbt)
        "peak_process_mb": round(usage.ru_maxrss / 1024),
    }


def start_simulator(
    users: int, seed: int, options: list[str] | None = None
) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """``seatwatch simulator`` in its own process, rate limits out of the way; the ATLASSIAN_* it printed."""
    seatwatch = str(Path(sys.executable).with_name("seatwatch"))
    argv = [seatwatch, "simulator", "--users", str(users), "--seed", str(seed), "--port", "0"]
    argv += options or []
    for limit_class in ("events", "last_active", "default"):
        argv += ["--rate-limit", f"{limit_class}={NO_LIMIT}"]
    simulator = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # noqa: S603
    variables: dict[str, str] = {}
    while len(variables) < 3:
        line = simulator.stdout.readline() if simulator.stdout else ""
        if not line:
            sys.exit("the simulator stopped before it served")
        key, _, value = line.strip().partition("=")
        variables[key] = value
    return simulator, variables


def advance(variables: dict[str, str], days: int) -> None:
    request = urllib.request.Request(  # noqa: S310 (the simulator on loopback)
        f"{variables['ATLASSIAN_API_BASE_URL']}/_simulator/advance?days={days}",
        method="POST",
        headers={"Authorization": f"Bearer {variables['ATLASSIAN_API_KEY']}"},
    )
    with urllib.request.urlopen(request) as answer:  # noqa: S310
        answer.read()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=2, help="run daily up to this day (day 1: the first run)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the data folder and the runs' logs")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="seatwatch-scale-"))
    started = time.monotonic()
    simulator, variables = start_simulator(args.users, args.seed)
    results: dict[str, object] = {"users": args.users, "simulator_seconds": round(time.monotonic() - started)}
    env = {**os.environ, **variables, "SEATWATCH_DATA_DIR": str(data / "data"), "DO_NOT_TRACK": "1"}
    seatwatch = str(Path(sys.executable).with_name("seatwatch"))
    try:
        for day in range(1, args.days + 1):
            if day > 1:
                advance(variables, 1)
            name = "first_run" if day == 1 else f"day_{day}"
            results[name] = timed([seatwatch, "run"], env, data / f"{name}.log")
            print(name, json.dumps(results[name]), file=sys.stderr, flush=True)
    finally:
        simulator.terminate()
        simulator.wait()
    results["warehouse_mb"] = round((data / "data" / "warehouse.duckdb").stat().st_size / 2**20)
    print(json.dumps(results, indent=2))
    if args.keep:
        print(f"kept {data}", file=sys.stderr)
    else:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
