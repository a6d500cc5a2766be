"""Always a way out: an apply interrupted (kill -9) and left past its plan's expiry can be finished or
abandoned, undo works whatever another run's state, and Ctrl-C / SIGTERM stop apply between two writes.

The command sequence is the one docs/reclaim.md documents ("An interrupted apply").
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pipeline.extract.demo import DEMO_SEED, DEMO_USERS
from pipeline.reclaim import calls as calls_module
from pipeline.reclaim.apply import apply_plan
from pipeline.reclaim.journal import Journal
from pipeline.reclaim.plan import Filters, build_plan
from pipeline.simulator.model import FaultConfig, SimulatorConfig
from pipeline.simulator.server import start_in_thread
from pipeline.simulator.world import World
from tests.support.demo import DemoRun
from tests.support.processes import seatwatch_env
from tests.support.reclaim_org import ReclaimOrg, demo_extract_moment, reclaim_org, write_plan


@pytest.fixture
def org(demo_run: DemoRun, tmp_path: Path) -> Iterator[ReclaimOrg]:
    assert demo_run.exit_code == 0, demo_run.stderr
    with reclaim_org(demo_run.published, tmp_path) as made:
        yield made


class Killed(BaseException):
    """kill -9 at a chosen point: nothing after it runs (no journal update, no `finally` that writes)."""


def _runs(org: ReclaimOrg) -> dict[str, Any]:
    with Journal.open(org.settings.warehouse_path) as journal:
        return {run.run_id: run for run in journal.all_runs()}


def _killed_after_writes(org: ReclaimOrg, monkeypatch: pytest.MonkeyPatch, writes: int) -> str:
    """An apply of the org's plan killed right after the API carried out its ``writes``-th write."""
    real_call, made = calls_module._call, []

    def dying(api: Any, entry: Any) -> Any:
        receipt = real_call(api, entry)
        made.append(entry)
        if len(made) == writes:
            raise Killed
        return receipt

    before = set(_runs(org))
    monkeypatch.setattr(calls_module, "_call", dying)
    with pytest.raises(Killed):
        apply_plan(org.settings, org.plan_path, max_actions=10, trigger="test", say=lambda line: None)
    monkeypatch.setattr(calls_module, "_call", real_call)
    [killed] = set(_runs(org)) - before
    return killed


def test_an_apply_killed_and_left_past_its_expiry_can_be_finished(
    org: ReclaimOrg, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = str(org.plan_path)
    code, _, err = org.cli(monkeypatch, "reclaim", "apply", "--plan", plan, "--yes", "--max", "2")
    assert code == 0, err
    [earlier] = _runs(org)
    killed = _killed_after_writes(org, monkeypatch, 2)
    org.world.advance(2)  # two simulated days: the plan has expired
    assert _runs(org)[killed].status == "running"

    # Another plan is refused, naming both ways out (one line, exit 2).
    other = write_plan(org.plan_path.with_name("other.json"), {**org.plan, "created_at": "another plan"})
    code, _, err = org.cli(monkeypatch, "reclaim", "apply", "--plan", str(other), "--yes")
    assert code == 2 and err.count("\n") == 1
    assert f"apply --plan {plan} --yes" in err and f"--abandon {killed[:8]}" in err
    # Undo of a finished run works whatever the other run's state; undo of the interrupted one says how
    # to end it first.
    code, _, err = org.cli(monkeypatch, "reclaim", "undo", "--apply-run", earlier[:8])
    assert code == 0, err
    assert len(org.changed("add_group_member")) == 2
    code, _, err = org.cli(monkeypatch, "reclaim", "undo", "--apply-run", killed[:8])
    assert code == 2 and "interrupted" in err and "--abandon" in err

    # The way out (docs/reclaim.md).
    code, out, err = org.cli(monkeypatch, "reclaim", "apply", "--plan", plan, "--yes")
    assert code == 0, err
    assert "Resuming apply run" in err and "takes no new action" in err
    runs = _runs(org)
    assert {run.status for run in runs.values()} == {"finished"}
    with Journal.open(org.settings.warehouse_path) as journal:
        rows = journal.rows(killed)
    # The write the kill interrupted was settled by a read: both writes of that run are known as applied.
    assert [row["state"] for row in rows] == ["applied", "applied"]
    assert rows[1]["reason"].startswith("resumed")

    # Undo of every finished run works.
    code, _, err = org.cli(monkeypatch, "reclaim", "undo", "--apply-run", killed[:8])
    assert code == 0, err
    assert len(org.changed("add_group_member")) == 4
    removed = {(w.group_id, w.account_id) for w in org.changed("remove_group_member")}
    assert removed == {(w.group_id, w.account_id) for w in org.changed("add_group_member")}

    # A new plan is applicable. After two days it needs new data (`seatwatch run`, then `reclaim plan`): here
    # the same org served again as the published copy saw it stands in for that run.
    _, extracted = demo_extract_moment(org.published)
    again = World(SimulatorConfig(users=DEMO_USERS, seed=DEMO_SEED, lag_hours=24, start=extracted))
    new_plan = write_plan(
        org.plan_path.with_name("new.json"), build_plan(org.published, Filters(max_actions=3))
    )
    with start_in_thread(again) as simulator:
        served_again = replace(org, world=again, base_url=simulator.base_url)
        code, out, err = served_again.cli(monkeypatch, "reclaim", "apply", "--plan", str(new_plan), "--yes")
    assert code == 0, err
    assert "3 applied" in out


def test_an_interrupted_apply_can_be_abandoned_and_then_undone(
    org: ReclaimOrg, monkeypatch: pytest.MonkeyPatch
) -> None:
    killed = _killed_after_writes(org, monkeypatch, 2)
    org.world.advance(2)

    code, out, err = org.cli(monkeypatch, "reclaim", "apply", "--abandon", killed[:8])
    assert code == 0, err
    assert "abandoned" in out and f"undo --apply-run {killed[:8]}" in out
    assert _runs(org)[killed].status == "abandoned"
    with Journal.open(org.settings.warehouse_path) as journal:
        # the write the kill interrupted was read: applied, like the one before it
        assert [row["state"] for row in journal.rows(killed)] == ["applied", "applied"]
    code, _, err = org.cli(monkeypatch, "reclaim", "apply", "--abandon", killed[:8])
    assert code == 2 and "is abandoned: nothing to abandon" in err
    code, _, err = org.cli(monkeypatch, "reclaim", "undo", "--apply-run", killed[:8])
    assert code == 0, err
    assert len(org.changed("add_group_member")) == 2


def _wait_for(condition: Any, process: subprocess.Popen[str], limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while not condition() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.parametrize(("signum", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_request_ends_apply_between_two_writes(
    demo_run: DemoRun, tmp_path: Path, signum: int, exit_code: int
) -> None:
    # Every answer 100 ms late: the run is still writing when the signal comes.
    with reclaim_org(demo_run.published, tmp_path, faults=FaultConfig(latency_ms=100)) as org:
        env = seatwatch_env(org.base_url, org.org_id, org.world.api_key, org.data_dir)
        argv = ["reclaim", "apply", "--plan", str(org.plan_path), "--yes", "--max", "25"]
        process = subprocess.Popen(  # noqa: S603 (a fixed argv, no shell)
            [sys.executable, "-m", "pipeline.cli", *argv],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _wait_for(lambda: len(org.changed()) >= 1, process)
        process.send_signal(signum)
        _, err = process.communicate(timeout=120)
        changed = org.changed()

    assert process.returncode == exit_code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "between two writes" in lines[0] and "stopped by" in lines[0], err
    with Journal.open(org.settings.warehouse_path) as journal:
        [run] = journal.all_runs()
        states = [row["state"] for row in journal.rows(run.run_id)]
    assert run.status == "stopped"
    assert 1 <= len(changed) < 25
    assert states.count("applied") == len(changed) and "intent" not in states
