"""What a stopped ``seatwatch run`` leaves behind: its Dagster run canceled, its pool slot free, one line."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from pipeline.runtime.processes import host
from pipeline.runtime.recovery import HOST_TAG, PID_TAG
from pipeline.runtime.signals import StopState


class StoppedRun:
    """The run of this process, as far as a stop needs it."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._instance: dg.DagsterInstance | None = None
        self.run_id: str | None = None

    @contextmanager
    def watching(self, instance: dg.DagsterInstance) -> Iterator[None]:
        self._instance = instance
        try:
            yield
        finally:
            self._instance = None

    def _own_runs(self, instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
        tags = {PID_TAG: str(os.getpid()), HOST_TAG: host()}
        return list(instance.get_runs(filters=dg.RunsFilter(tags=tags), limit=1))

    def settle(self, instance: dg.DagsterInstance) -> None:
        """After the run stopped: make sure it is recorded canceled, not failed or still going."""
        for run in self._own_runs(instance):
            self.run_id = run.run_id
            if run.status not in (dg.DagsterRunStatus.CANCELED, dg.DagsterRunStatus.SUCCESS):
                instance.report_run_canceled(run, "Stopped by a signal (Ctrl-C or SIGTERM).")
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)

    def cancel(self, state: StopState) -> None:
        """The hard stop (the run did not stop in time): record it canceled before the process exits."""
        instance = self._instance
        if instance is None:
            return
        # Exiting anyway: if this fails, the next run's recovery marks the run failed instead.
        with contextlib.suppress(Exception):
            self.settle(instance)

    def line(self, state: StopState) -> str:
        which = f"run {self.run_id[:8]}" if self.run_id else "run"
        return (
            f"seatwatch: {which} stopped by {state.name}; the warehouse keeps its last complete load and "
            f"{self._data_dir / 'seatwatch.duckdb'} its last complete copy. Run again to finish."
        )
