"""Recovery from runs that died: what a run does first, while it holds the data folder.

A run whose process was killed (``kill -9``, OOM, reboot) stays STARTED in the Dagster instance and keeps
its claim on the ``duckdb_writer`` pool, which would block every later run; its dlt load packages stay in
the data folder. Recovery finds such runs (their process is gone: pid not alive on this host), marks them
failed with a reason, frees their pool slots, aborts the dlt packages they left, and says so in one line.

How a run's process is known: ``seatwatch run`` tags its runs with pid, process start time and host at
launch (:func:`launch_tags`); a run launched from the UI is found through the pid Dagster records in the
run's "Executing steps in process" event. Runs of another host are left alone (their pid means nothing
here) unless the caller holds the data folder lock and the run belongs to this data folder: then it cannot
be live, since a live ``seatwatch run`` holds that lock for its whole duration.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from pipeline.config.shared import DATA_DIR_TAG, TRIGGER_TAG
from pipeline.runtime.processes import host, is_alive, start_ticks

PID_TAG = "seatwatch/pid"
PID_START_TAG = "seatwatch/pid_start"
HOST_TAG = "seatwatch/host"

IN_PROGRESS = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def launch_tags(data_dir: Path, trigger: str = "cli") -> dict[str, str]:
    """Tags that let a later run tell whether this one's process is still there."""
    pid = os.getpid()
    return {
        PID_TAG: str(pid),
        PID_START_TAG: start_ticks(pid),
        HOST_TAG: host(),
        DATA_DIR_TAG: str(data_dir),
        TRIGGER_TAG: trigger,
    }


@dataclass(frozen=True)
class RunOwner:
    pid: int | None
    ticks: str
    host: str | None


def _owner(instance: dg.DagsterInstance, run: dg.DagsterRun) -> RunOwner:
    tags = run.tags
    if PID_TAG in tags:
        return RunOwner(int(tags[PID_TAG]), tags.get(PID_START_TAG, ""), tags.get(HOST_TAG))
    # Launched from the UI: the run worker records its pid when it starts executing steps.
    for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        event = record.dagster_event
        metadata = event.engine_event_data.metadata if event and event.engine_event_data else {}
        if "pid" in metadata:
            return RunOwner(int(str(metadata["pid"].value)), "", host())
    return RunOwner(None, "", None)


def is_dead(instance: dg.DagsterInstance, run: dg.DagsterRun, *, holding_data_dir: Path | None) -> bool:
    owner = _owner(instance, run)
    if owner.pid == os.getpid() and owner.host == host():
        return False
    if holding_data_dir is not None and run.tags.get(DATA_DIR_TAG) == str(holding_data_dir):
        return True  # its `seatwatch run` would hold the lock we hold
    if owner.pid is None or owner.host != host():
        return False  # nothing to judge by: leave it to Dagster's run monitoring
    return not is_alive(owner.pid, owner.ticks)


def recover_dead_runs(
    instance: dg.DagsterInstance,
    *,
    holding_data_dir: Path | None = None,
    abort_packages: Callable[[], int] | None = None,
    say: Callable[[str], None] | None = None,
) -> list[str]:
    """Mark every dead in-progress run failed, free its pool slots, abort left-over dlt packages.

    Returns the ids of the runs recovered. ``abort_packages`` (returns how many it aborted) is called when
    the caller holds the data folder, since only then no live run can be using them.
    """
    recovered = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=IN_PROGRESS)):
        if not is_dead(instance, run, holding_data_dir=holding_data_dir):
            continue
        instance.report_run_failed(
            run,
            "Its process is gone (killed, out of memory, or the machine stopped); marked failed by recovery.",
        )
        recovered.append(run.run_id)
    # Also slots of runs that already ended (failed or canceled without freeing them).
    storage = instance.event_log_storage
    for run_id in set(recovered) | _runs_holding_slots_that_ended(instance):
        storage.free_concurrency_slots_for_run(run_id)
    aborted = abort_packages() if abort_packages is not None and holding_data_dir is not None else 0
    if say is not None and (recovered or aborted):
        runs = ", ".join(run_id[:8] for run_id in recovered) or "none"
        say(
            f"Recovered from an interrupted run: marked {len(recovered)} dead run(s) failed ({runs}), "
            f"freed their warehouse slot, discarded {aborted} unfinished load package(s)."
        )
    return recovered


def _runs_holding_slots_that_ended(instance: dg.DagsterInstance) -> set[str]:
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return set()
    holders: set[str] = set()
    for key in storage.get_concurrency_keys():
        info = storage.get_concurrency_info(key)
        holders |= {slot.run_id for slot in info.claimed_slots}
        holders |= {step.run_id for step in info.pending_steps}
    ended = set()
    for run_id in holders:
        run = instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            ended.add(run_id)
    return ended
