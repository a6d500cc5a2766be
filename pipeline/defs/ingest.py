"""Extract and load with dlt: every raw table in one asset set, through the one extract path.

``atlassian_raw`` runs :func:`pipeline.extract.run.run_extract`, the function ``seatwatch extract`` and the
benchmarks call too, so a run from the UI, the schedule or ``seatwatch run`` loads exactly what the CLI
loads: the API snapshot (users, last-active dates, groups, workspaces…, observed once per run on the API's
clock), the audit events processed since the last load, and the run record ``extract_runs``. The assets
are not partitioned: the audit log is read from where the warehouse's dlt state says it was loaded up to,
on the API's clock (docs/architecture.md, "Audit events"), so nothing is left for a partition to describe.

dagster-dlt needs a source instance and a pipeline when the module is imported, to list the assets. Both
are built without settings: a source with no org sessions (its resources are lazy, so nothing is called)
and a pipeline in a throw-away folder (dlt creates its working folder in the constructor, and the real one
lives in the data folder, known only at run time).
"""

import tempfile
import time
from collections.abc import Iterator
from typing import Any

import dagster as dg
import dlt as dlt_lib
from dagster_dlt import dlt_assets

from pipeline.config.settings import Settings
from pipeline.config.shared import ELAPSED, FINAL, ProgressFn
from pipeline.defs.pools import DUCKDB_POOL
from pipeline.defs.translator import SeatwatchDltTranslator, dlt_asset_key, dlt_resource_name
from pipeline.extract.run import DATASET_NAME, PIPELINE_NAME, ExtractResult, run_extract
from pipeline.sources.atlassian_admin import RUN_RECORD_RESOURCE, RunInfo, atlassian_admin

USERS_KEY = dlt_asset_key("users")
EXTRACT_RUNS_KEY = dlt_asset_key(RUN_RECORD_RESOURCE)
API_CLOCK_OFFSET = "api_clock_offset_seconds"

_SPEC_SOURCE = atlassian_admin([], RunInfo(run_id="definitions", activity_lag_hours=24))
_PROGRESS_LOG_SECONDS = 10.0


def _spec_pipeline() -> dlt_lib.Pipeline:
    with tempfile.TemporaryDirectory() as scratch:
        return dlt_lib.pipeline(
            pipeline_name=PIPELINE_NAME,
            destination="duckdb",
            dataset_name=DATASET_NAME,
            pipelines_dir=scratch,
        )


def _log_progress(log: Any, terminal: ProgressFn) -> ProgressFn:
    """The source's progress callback: the terminal's, and one log line per step every few seconds."""
    last: dict[str, float] = {}

    def report(step: str, counters: dict[str, Any]) -> None:
        terminal(step, counters)
        now = time.monotonic()
        if now - last.get(step, -_PROGRESS_LOG_SECONDS) >= _PROGRESS_LOG_SECONDS:
            last[step] = now
            log.info(f"{step}: " + ", ".join(f"{key} {value}" for key, value in counters.items()))

    return report


def _metadata(key: dg.AssetKey, result: ExtractResult) -> dict[str, Any]:
    """Where each table is, the rows this run loaded, the API calls, and the API's own user count."""
    name = dlt_resource_name(key)
    # dagster-dlt would name the table after the dlt schema (`atlassian_admin.users`); the dataset is `raw`.
    metadata: dict[str, Any] = {
        "dagster/table_name": f"{DATASET_NAME}.{name}",
        "rows_loaded": dg.MetadataValue.int(result.rows_loaded.get(name, 0)),
    }
    if key == EXTRACT_RUNS_KEY:
        for stat in ("calls", "retries", "rate_limited"):
            total = sum(getattr(stats, stat) for stats in result.api_stats.values())
            metadata[f"api_{stat}"] = dg.MetadataValue.int(total)
        metadata[API_CLOCK_OFFSET] = dg.MetadataValue.json(result.clock_offsets)
    if key == USERS_KEY:
        metadata["api_user_count"] = dg.MetadataValue.json(result.api_user_counts)
    return metadata


def _report_loaded(progress: ProgressFn, tables: list[str], result: ExtractResult, elapsed: float) -> None:
    """One lasting progress line for the load, before the next step starts (dbt then reads these rows)."""
    progress(
        "raw tables loaded",
        {
            "tables": len(tables),
            "rows": sum(result.rows_loaded.get(table, 0) for table in tables),
            "API calls": sum(stats.calls for stats in result.api_stats.values()),
            ELAPSED: elapsed,
            FINAL: True,
        },
    )


@dlt_assets(
    dlt_source=_SPEC_SOURCE,
    dlt_pipeline=_spec_pipeline(),
    name="atlassian_raw",
    dagster_dlt_translator=SeatwatchDltTranslator(),
    pool=DUCKDB_POOL,
)
def atlassian_raw(
    context: dg.AssetExecutionContext,
    settings: dg.ResourceParam[Settings],
    progress: dg.ResourceParam[ProgressFn],
) -> Iterator[dg.MaterializeResult]:
    started = time.monotonic()
    selected = sorted(context.selected_asset_keys, key=lambda key: key.to_user_string())
    tables = [dlt_resource_name(key) for key in selected]
    result = run_extract(
        settings,
        run_id=context.run_id,
        resources=tables,
        progress=_log_progress(context.log, progress),
        count_users=USERS_KEY in selected,
        completes_run=False,  # the record says running until publishing (pipeline/runtime/run_records.py)
    )
    _report_loaded(progress, tables, result, time.monotonic() - started)
    for key in selected:
        yield dg.MaterializeResult(asset_key=key, metadata=_metadata(key, result))
