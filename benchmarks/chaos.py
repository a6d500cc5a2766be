"""Chaos benchmark: kill -9 (and SIGTERM) `seatwatch run` at points spread over extract, load, dbt and
publish, run again, and compare the warehouse with a clean run against the same simulated org.

For every point it checks that:

* the interrupted run's children (dbt) do not survive it;
* after a SIGTERM the run exits 143 within 10 s and prints one line;
* the published copy opens and is complete after the interruption and after the recovery run;
* the recovery run exits 0 (no waiting on the dead run) and says it recovered;
* ``raw`` and ``marts`` hold the same rows as the clean run, by content hash of the business columns
  (load ids, run ids and run times left out; rows deduplicated, since a killed run's complete snapshot may
  stay in ``raw`` next to the recovery run's identical one);
* no killed run is recorded as ``success`` in ``raw.extract_runs`` or ``marts.pipeline_runs``.

    uv run python -m benchmarks.chaos                      # every point, 300 users (about 30 min on 2 cores)
    uv run python -m benchmarks.chaos --points dbt-mid,sigterm-dbt
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline.simulator.model import SimulatorConfig
from pipeline.simulator.server import start_in_thread
from pipeline.simulator.world import World
from tests.support.processes import alive, descendants, seatwatch_env

RUN_LOG_TABLES = {"extract_runs", "pipeline_runs", "_dlt_loads", "_dlt_pipeline_state", "_dlt_version"}
VOLATILE = re.compile(r"^(_dlt_.*|run_id|.*_run_id|started_at|finished_at|loaded_at|is_as_of_run)$")
SIGTERM_LIMIT_SECONDS = 10.0


@dataclass(frozen=True)
class Point:
    name: str
    phase: str
    signum: int
    # Called with (stderr so far, data folder); True when the run has reached the point.
    reached: Callable[[str, Path], bool]


def _line(pattern: str) -> Callable[[str, Path], bool]:
    regex = re.compile(pattern, re.MULTILINE)
    return lambda err, data: bool(regex.search(err))


def _packages(data: Path) -> list[str]:
    folder = data / ".dlt" / "seatwatch" / "load" / "normalized"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


_seen_packages: set[str] = set()


def _nth_load(n: int) -> Callable[[str, Path], bool]:
    def reached(err: str, data: Path) -> bool:
        _seen_packages.update(_packages(data))
        return len(_seen_packages) >= n and bool(_packages(data))

    return reached


def _dbt_done(share: float) -> Callable[[str, Path], bool]:
    regex = re.compile(r"dbt build: (\d+)/(\d+)")

    def reached(err: str, data: Path) -> bool:
        return any(int(done) >= share * int(total) for done, total in regex.findall(err))

    return reached


def _publishing(err: str, data: Path) -> bool:
    return (data / ".seatwatch.duckdb.tmp").exists()


KILL, TERM = signal.SIGKILL, signal.SIGTERM
POINTS = [
    Point("extract-events", "extract", KILL, _line(r"^events \[")),
    Point("extract-users", "extract", KILL, _line(r"^users \[")),
    Point("load-first", "load", KILL, _nth_load(1)),
    Point("load-second", "load", KILL, _nth_load(2)),
    Point("dbt-start", "dbt", KILL, _dbt_done(0.01)),
    Point("dbt-mid", "dbt", KILL, _dbt_done(0.5)),
    Point("dbt-end", "dbt", KILL, _dbt_done(0.9)),
    Point("publish", "publish", KILL, _publishing),
    Point("sigterm-extract", "extract", TERM, _line(r"^users \[")),
    Point("sigterm-dbt", "dbt", TERM, _dbt_done(0.3)),
    Point("sigterm-publish", "publish", TERM, _publishing),
]


def _start(env: dict[str, str]) -> tuple[subprocess.Popen, list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []

    def pump() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)

    threading.Thread(target=pump, daemon=True).start()
    return process, lines


def _run_to_end(env: dict[str, str], timeout: float = 900) -> tuple[int, str, float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return done.returncode, done.stderr, time.monotonic() - started


def content_hashes(database: Path) -> dict[str, str]:
    """schema.table → hash of its distinct rows over the business columns."""
    hashes = {}
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where schema_name in ('raw', 'marts')"
        ).fetchall()
        for schema, table in sorted(tables):
            if table in RUN_LOG_TABLES:
                continue
            columns = [
                name
                for (name,) in con.execute(
                    "select column_name from duckdb_columns() where schema_name = ? and table_name = ?"
                    " order by column_index",
                    [schema, table],
                ).fetchall()
                if not VOLATILE.match(name)
            ]
            quoted = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f'select distinct {quoted} from "{schema}"."{table}"').fetchall()
            digest = hashlib.sha256()
            for row in sorted(repr(r) for r in rows):
                digest.update(row.encode())
            hashes[f"{schema}.{table}"] = digest.hexdigest()[:16]
    return hashes


def published_is_complete(published: Path, expected_tables: set[str]) -> bool:
    if not published.exists():
        return True  # never published yet: nothing a reader could open half-written
    try:
        with duckdb.connect(str(published), read_only=True) as con:
            tables = {
                f"{s}.{t}"
                for s, t in con.execute("select schema_name, table_name from duckdb_tables()").fetchall()
            }
            users = con.execute("select count(*) from marts.dim_users").fetchone()[0]
    except duckdb.Error:
        return False
    return expected_tables <= tables and users > 0


def success_recorded_for(warehouse: Path, run_ids: set[str]) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select run_id, status from raw.extract_runs"
            " union all select run_id, status from marts.pipeline_runs"
        ).fetchall()
    return [f"{run_id[:8]}:{status}" for run_id, status in rows if run_id in run_ids and status == "success"]


def _killed_run_ids(data: Path, known: set[str]) -> set[str]:
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        ids = {r for (r,) in con.execute("select distinct run_id from raw.extract_runs").fetchall()}
    return ids - known


def chaos_point(
    point: Point, env_for: Callable[[Path], dict[str, str]], clean: dict[str, str], root: Path
) -> dict:
    data = root / point.name
    env = env_for(data)
    _seen_packages.clear()
    process, lines = _start(env)
    deadline = time.monotonic() + 900
    while process.poll() is None and not point.reached("".join(lines), data):
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    outcome: dict[str, object] = {"point": point.name, "phase": point.phase}
    if process.poll() is not None:
        outcome["result"] = f"run ended before the point (exit {process.returncode})"
        return outcome
    children = descendants(process.pid)
    signalled = time.monotonic()
    os.kill(process.pid, point.signum)
    try:
        code = process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        code = process.wait()
    stop_seconds = time.monotonic() - signalled
    time.sleep(1.0)
    outcome["signal"] = "SIGKILL" if point.signum == KILL else "SIGTERM"
    outcome["exit"] = code
    outcome["stop_s"] = round(stop_seconds, 1)
    outcome["children_left"] = sum(alive(pid) for pid in children)
    if point.signum == TERM:
        stop_lines = [line for line in lines if "stopped by" in line]
        outcome["stop_line"] = len(stop_lines)
    expected_tables = {name for name in clean if name.startswith("marts.")}
    outcome["published_ok_after_kill"] = published_is_complete(data / "seatwatch.duckdb", expected_tables)
    rc, err, seconds = _run_to_end(env)
    outcome["recovery_exit"] = rc
    outcome["recovery_s"] = round(seconds, 0)
    outcome["recovered_line"] = "Recovered from an interrupted run" in err
    outcome["published_ok_after_recovery"] = published_is_complete(data / "seatwatch.duckdb", expected_tables)
    if rc == 0:
        got = content_hashes(data / "warehouse.duckdb")
        outcome["identical"] = got == clean
        if got != clean:
            outcome["differs"] = sorted(k for k in set(got) | set(clean) if got.get(k) != clean.get(k))
        with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
            last = con.execute(
                "select run_id from raw.extract_runs order by started_at desc limit 1"
            ).fetchone()
        killed = _killed_run_ids(data, {last[0]} if last else set())
        outcome["killed_marked_success"] = success_recorded_for(data / "warehouse.duckdb", killed)
    else:
        outcome["recovery_err"] = err.strip().splitlines()[-1:] if err.strip() else []
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--points", default="", help="comma-separated point names (default: all)")
    args = parser.parse_args()
    chosen = [p for p in POINTS if not args.points or p.name in args.points.split(",")]

    world = World(SimulatorConfig(users=args.users, seed=args.seed))
    with (
        start_in_thread(world) as simulator,
        tempfile.TemporaryDirectory(prefix="seatwatch-chaos-") as scratch,
    ):
        root = Path(scratch)
        org = next(iter(world.orgs))

        def env_for(data: Path) -> dict[str, str]:
            return seatwatch_env(simulator.base_url, org, world.api_key, data)

        rc, err, seconds = _run_to_end(env_for(root / "clean"))
        if rc != 0:
            sys.exit(f"the clean run failed (exit {rc}): {err.strip().splitlines()[-1:]}")
        clean = content_hashes(root / "clean" / "warehouse.duckdb")
        print(f"clean run: {seconds:.0f} s, {len(clean)} tables hashed", flush=True)
        results = []
        for point in chosen:
            outcome = chaos_point(point, env_for, clean, root)
            results.append(outcome)
            print(outcome, flush=True)
    print()
    header = ["point", "phase", "signal", "exit", "stop (s)", "children left", "published ok", "recovery"]
    header.append("same data")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for o in results:
        published = o.get("published_ok_after_kill") and o.get("published_ok_after_recovery")
        same = "yes" if o.get("identical") else "NO " + str(o.get("differs", o.get("result", "")))
        cells = [o["point"], o["phase"], o.get("signal", "-"), o.get("exit", "-"), o.get("stop_s", "-")]
        cells += [
            o.get("children_left", "-"),
            "yes" if published else "NO",
            o.get("recovery_exit", "-"),
            same,
        ]
        print("| " + " | ".join(str(c) for c in cells) + " |")


if __name__ == "__main__":
    main()
