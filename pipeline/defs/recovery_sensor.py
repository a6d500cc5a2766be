"""While the UI's daemon runs: recover runs whose process died (see :mod:`pipeline.runtime.recovery`).

A run launched from the UI whose worker is killed stays STARTED for Dagster (its default run launcher cannot
check a worker's health), holding the run queue and the ``duckdb_writer`` pool. This sensor marks such runs
failed and frees their slots every minute; it never launches a run.
"""

from __future__ import annotations

import dagster as dg

from pipeline.runtime.recovery import recover_dead_runs


@dg.sensor(
    name="seatwatch_recover_dead_runs",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks runs whose process is gone failed and frees their duckdb_writer slot.",
)
def recover_dead_runs_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    recovered = recover_dead_runs(context.instance)
    if recovered:
        return dg.SkipReason(f"Marked {len(recovered)} dead run(s) failed: {', '.join(recovered)}")
    return dg.SkipReason("No dead runs.")
