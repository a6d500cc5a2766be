"""The single Dagster entry point (``workspace.yaml``, ``dagster dev -m pipeline.definitions``).

Graph: dlt ``raw`` → dbt ``staging`` → ``intermediate`` → ``marts`` → ``published_copy`` →
``reclaim_policy``, plus the checks, the daily job and its schedule, and the reclaim job (never scheduled)
whose journal feeds ``marts.reclaim_actions``. Loading this module needs no credentials and no network:
settings are read when a run starts (see :mod:`pipeline.defs.resources`). It does run ``dbt parse`` when
the dbt project changed since the last parse (see :mod:`pipeline.defs.dbt_project`).
"""

from __future__ import annotations

import dagster as dg

from pipeline.defs.alert_sensor import alert_failed_runs_sensor
from pipeline.defs.checks import ALL_CHECKS
from pipeline.defs.ingest import atlassian_raw
from pipeline.defs.policy import reclaim_notices_journal, reclaim_policy
from pipeline.defs.publish import build_published_copy, team_warehouse
from pipeline.defs.reclaim import reclaim_apply_job, reclaim_journal
from pipeline.defs.recovery_sensor import recover_dead_runs_sensor
from pipeline.defs.resources import build_resources
from pipeline.defs.schedules import daily_job, daily_schedule
from pipeline.defs.transform import dbt_models, dbt_project
from pipeline.defs.translator import MARTS_GROUP
from pipeline.runtime import patches

# A step waiting for the duckdb_writer pool sleeps instead of spinning; dbt and Dagster's compute-log tails
# die with their run and never see a credential. Every patch of Dagster's and dagster-dbt's internals:
# pipeline/runtime/patches.py.
patches.apply_dagster_patches()

MARTS = [key for key in dbt_models.keys if key.path[0] == MARTS_GROUP]

defs = dg.Definitions(
    assets=[
        atlassian_raw,
        dbt_models,
        build_published_copy(MARTS),
        team_warehouse,
        reclaim_policy,
        reclaim_journal,
        reclaim_notices_journal,
    ],
    asset_checks=ALL_CHECKS,
    jobs=[daily_job, reclaim_apply_job],
    schedules=[daily_schedule],
    sensors=[recover_dead_runs_sensor, alert_failed_runs_sensor],
    resources=build_resources(dbt_project),
    # Runs launched from the UI run in process too: dlt and dbt must not overlap on the DuckDB file anyway,
    # and a subprocess per step would pay Dagster's, dlt's and dbt's start-up and imports again.
    executor=dg.in_process_executor,
)
