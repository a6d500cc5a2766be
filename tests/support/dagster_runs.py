"""Run records made by hand in a Dagster instance (SQLite or Postgres), for the recovery and waiting tests:
a run that Dagster believes started, by a process that is alive or dead, holding a pool slot or not."""

from __future__ import annotations

import subprocess
import sys

import dagster as dg

POOL = "duckdb_writer"


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def started_run(instance: dg.DagsterInstance, tags: dict[str, str]) -> dg.DagsterRun:
    run = instance.create_run_for_job(dg.GraphDefinition(name="g").to_job(), tags=tags)
    instance.handle_run_event(
        run.run_id,
        dg.DagsterEvent(
            event_type_value=dg.DagsterEventType.RUN_START.value, job_name=run.job_name, message="started"
        ),
    )
    return instance.get_run_by_id(run.run_id)


def claim(instance: dg.DagsterInstance, run_id: str) -> None:
    storage = instance.event_log_storage
    storage.initialize_concurrency_limit_to_default(POOL)
    assert storage.claim_concurrency_slot(POOL, run_id, "step").is_claimed
