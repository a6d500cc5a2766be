"""Recovery: a run whose process is gone is marked failed and gives its pool slot back; a live one stays."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from pipeline.runtime.instance import open_instance
from pipeline.runtime.processes import host
from pipeline.runtime.recovery import HOST_TAG, PID_START_TAG, PID_TAG, launch_tags, recover_dead_runs
from tests.support.dagster_runs import POOL, claim, dead_pid, started_run


def test_a_dead_run_is_marked_failed_and_frees_its_slot(tmp_path: Path) -> None:
    said: list[str] = []
    with open_instance(tmp_path) as instance:
        dead = started_run(instance, {PID_TAG: str(dead_pid()), PID_START_TAG: "", HOST_TAG: host()})
        live = started_run(instance, launch_tags(tmp_path / "elsewhere"))
        other_host = started_run(instance, {PID_TAG: "1", HOST_TAG: "another-machine"})
        claim(instance, dead.run_id)
        assert dead.status == dg.DagsterRunStatus.STARTED

        assert recover_dead_runs(instance, say=said.append) == [dead.run_id]

        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(live.run_id).status == dg.DagsterRunStatus.STARTED
        assert instance.get_run_by_id(other_host.run_id).status == dg.DagsterRunStatus.STARTED
        info = instance.event_log_storage.get_concurrency_info(POOL)
        assert info.claimed_slots == []
    [line] = said
    assert line.startswith("Recovered from an interrupted run: marked 1 dead run(s) failed")


def test_holding_the_data_folder_means_its_other_runs_are_dead(tmp_path: Path) -> None:
    with open_instance(tmp_path) as instance:
        # Recorded by a `seatwatch run` of this folder on another host: it would hold the lock we hold.
        tags = {**launch_tags(tmp_path), PID_TAG: str(os.getpid() + 1), HOST_TAG: "another-machine"}
        run = started_run(instance, tags)
        assert recover_dead_runs(instance, holding_data_dir=tmp_path) == [run.run_id]
