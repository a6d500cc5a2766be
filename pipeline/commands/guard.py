"""Everything a run does before its first step: hold the data folder, open its Dagster instance, recover
from dead runs, and wait (saying so) for a live run launched from the UI.

Used by ``seatwatch run``; the steps of a run launched from the UI rely on the ``duckdb_writer`` pool
instead (see docs/crash-safety.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import dagster as dg

from pipeline.config.settings import Settings
from pipeline.runtime.instance import open_instance
from pipeline.runtime.locking import data_folder_lock, wait_for_holder
from pipeline.runtime.recovery import IN_PROGRESS, is_dead, recover_dead_runs
from pipeline.runtime.run_records import FAILED, SUCCESS, force_status, settle_finished_runs

_POLL_SECONDS = 2.0


def abort_left_packages(settings: Settings) -> int:
    """Discard the dlt load packages an interrupted run left in the data folder; how many there were."""
    if not (settings.data_dir / ".dlt").exists():
        return 0
    from pipeline.extract.run import make_pipeline

    pipeline = make_pipeline(settings)
    pending = len(pipeline.list_extracted_load_packages()) + len(pipeline.list_normalized_load_packages())
    if pending:
        pipeline.abort_packages()
    return pending


def _live_runs(instance: dg.DagsterInstance, settings: Settings) -> list[dg.DagsterRun]:
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=IN_PROGRESS))
    return [run for run in runs if not is_dead(instance, run, holding_data_dir=settings.data_dir)]


def _describe(instance: dg.DagsterInstance, run: dg.DagsterRun) -> str:
    record = instance.get_run_record_by_id(run.run_id)
    started = record.start_time if record is not None else None
    since = time.strftime("%H:%M:%S UTC", time.gmtime(started)) if started else "just now"
    return f"Dagster run {run.run_id[:8]} (started {since})"


def _wait_for_live_runs(instance: dg.DagsterInstance, settings: Settings, say: Callable[[str], None]) -> None:
    live = _live_runs(instance, settings)
    if live:
        wait_for_holder(
            _describe(instance, live[0]),
            lambda: not _live_runs(instance, settings),
            data_dir=settings.data_dir,
            timeout_seconds=settings.wait_timeout_seconds,
            say=say,
            poll_seconds=_POLL_SECONDS,
        )


@contextmanager
def guarded_run(
    settings: Settings, say: Callable[[str], None], command: str = "run"
) -> Iterator[dg.DagsterInstance]:
    """Hold the data folder and yield its recovered Dagster instance, with no live run in the way.

    ``command`` names the holder to whoever waits for the folder meanwhile (``reclaim apply``, ...)."""
    with (
        data_folder_lock(
            settings.data_dir, timeout_seconds=settings.wait_timeout_seconds, command=command, say=say
        ),
        open_instance(settings.data_dir) as instance,
    ):
        dead = recover_dead_runs(
            instance,
            holding_data_dir=settings.data_dir,
            abort_packages=lambda: abort_left_packages(settings),
            say=say,
        )
        _wait_for_live_runs(instance, settings, say)
        # Now no run writes the warehouse: settle the records of runs that ended without doing so.
        force_status(settings.warehouse_path, dead, FAILED)
        settle_finished_runs(settings.warehouse_path, lambda run_id: _outcome(instance, run_id))
        yield instance


def _outcome(instance: dg.DagsterInstance, run_id: str) -> str | None:
    """``success`` / ``failed`` for a run that ended (or is unknown to Dagster), None while it runs."""
    run = instance.get_run_by_id(run_id)
    if run is None:
        return FAILED
    if not run.is_finished:
        return None
    return SUCCESS if run.is_success else FAILED
