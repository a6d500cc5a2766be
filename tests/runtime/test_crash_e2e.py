"""Crashes and stops end to end, on one data folder and a 100-user simulator org, with secrets planted in
every setting: a SIGTERM during the extract stops the run in seconds (exit 143, run canceled); the dbt a
run starts sees no API key, and a kill -9 during dbt leaves no dbt behind; the next run recovers, succeeds,
and records both interrupted runs as failed; no planted secret is anywhere in the data folder or its Dagster
home."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import pytest

from pipeline.runtime.instance import open_instance
from pipeline.simulator.model import SimulatorConfig
from pipeline.simulator.server import start_in_thread
from pipeline.simulator.world import World
from pipeline.warehouse import connect
from tests.support.files import files_containing
from tests.support.processes import alive, command_line, descendants

ORG_KEY = "planted-org-key-Zq81x"
DEFAULT_KEY = "planted-default-key-Xr52y"
URL_PASSWORD = "planted-url-pw-Kd3z"


class Run:
    """`seatwatch run` in a child process, its stderr collected as it comes."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "run"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stderr is not None
        self.lines.extend(self.process.stderr)

    def wait_for(self, pattern: str, timeout: float = 600) -> None:
        regex, deadline = re.compile(pattern), time.monotonic() + timeout
        while not any(regex.search(line) for line in self.lines):
            assert self.process.poll() is None, "".join(self.lines)
            assert time.monotonic() < deadline
            time.sleep(0.05)

    def wait_for_dbt_build(self, timeout: float = 600) -> set[int]:
        """The run's child processes once one of them is ``dbt build`` (before dbt has even parsed)."""
        deadline = time.monotonic() + timeout
        while True:
            children = descendants(self.process.pid)
            for pid in children:
                args = command_line(pid)
                if "build" in args and any(Path(arg).name == "dbt" for arg in args):
                    return children
            assert self.process.poll() is None, "".join(self.lines)
            assert time.monotonic() < deadline
            time.sleep(0.25)  # each look walks /proc; dbt spends seconds importing before it parses


def _is_dbt_build(pid: int) -> bool:
    args = command_line(pid)
    return "build" in args and any(Path(arg).name == "dbt" for arg in args)


def _environment(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:  # gone already: the caller finds no environment and fails
        return {}
    return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)


@pytest.mark.slow(runs=3)
def test_interrupted_runs_stop_cleanly_and_the_next_run_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)  # the runs used the data folder's home: read that one
    world = World(SimulatorConfig(users=100, seed=11, api_key=ORG_KEY))
    [org] = world.orgs
    data = tmp_path / "data"
    with start_in_thread(world) as simulator:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ATLASSIAN_", "DAGSTER_HOME"))}
        env |= {
            "SEATWATCH_DATA_DIR": str(data),
            "ATLASSIAN_ORG_ID": org,
            "ATLASSIAN_API_KEY": DEFAULT_KEY,
            f"ATLASSIAN_API_KEY__{org}": ORG_KEY,
            "ATLASSIAN_API_BASE_URL": simulator.base_url,
        }

        # A password in the URL: refused in one line that does not show it.
        refused = subprocess.run(
            [sys.executable, "-m", "pipeline.cli", "run"],
            env={**env, "ATLASSIAN_API_BASE_URL": f"http://u:{URL_PASSWORD}@127.0.0.1:1/admin"},
            capture_output=True,
            text=True,
            check=False,
        )
        assert refused.returncode == 2 and len(refused.stderr.splitlines()) == 1
        assert URL_PASSWORD not in refused.stderr

        # SIGTERM during the extract: stopped within 10 s, exit 143, one line, the Dagster run canceled.
        stopped = Run(env)
        stopped.wait_for(r"^(users|events) \[")
        sent = time.monotonic()
        stopped.process.send_signal(signal.SIGTERM)
        assert stopped.process.wait(timeout=15) == 143
        assert time.monotonic() - sent < 10
        time.sleep(0.2)
        assert "stopped by SIGTERM" in stopped.lines[-1]

        # kill -9 during dbt: dbt dies with the run. Before that, the dbt the run started holds no API key:
        # neither a variable's name nor a key's value is in its environment.
        killed = Run(env)
        children = killed.wait_for_dbt_build()
        dbt_environments = [_environment(pid) for pid in children if _is_dbt_build(pid)]
        assert dbt_environments and all(dbt_environments)
        for environment in dbt_environments:
            assert [name for name in environment if name.startswith("ATLASSIAN_")] == []
            assert not {ORG_KEY, DEFAULT_KEY} & set(environment.values())
        killed.process.kill()
        killed.process.wait()
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in children if alive(pid)]

        # The next run is not blocked, says it recovered, and succeeds.
        recovery = Run(env)
        assert recovery.process.wait(timeout=900) == 0, "".join(recovery.lines)
        assert any(line.startswith("Recovered from an interrupted run") for line in recovery.lines)

    with open_instance(data) as instance:
        statuses = [run.status for run in instance.get_runs()]  # newest first
    assert statuses == [
        dg.DagsterRunStatus.SUCCESS,
        dg.DagsterRunStatus.FAILURE,
        dg.DagsterRunStatus.CANCELED,
    ]
    # The stopped run ended before its extract was written; the killed one is recorded failed. The published
    # copy holds the marts only.
    with connect(data / "warehouse.duckdb", read_only=True) as con:
        raw = con.execute("select status from raw.extract_runs order by started_at").fetchall()
    assert raw == [("failed",), ("success",)]
    for name in ("warehouse.duckdb", "seatwatch.duckdb"):
        with connect(data / name, read_only=True) as con:
            marts = con.execute("select status from marts.pipeline_runs order by started_at").fetchall()
        assert marts == raw, name
    for secret in (ORG_KEY, DEFAULT_KEY, URL_PASSWORD):
        assert files_containing(data, secret) == []
