"""Extract and load with dlt: the API snapshot (unpartitioned) and the audit log (daily partitions).

Both asset sets run the one dlt source of :mod:`pipeline.sources.atlassian_admin` into DuckDB ``raw``:

* ``atlassian_snapshot``: every resource except ``audit_events``. Users, last-active dates, groups,
  workspaces… describe the org *now*, so they are not partitioned; each run observes the API once and
  ``extract_runs`` records when (on the API's clock) and how many calls it took.
* ``atlassian_audit_events``: ``audit_events`` for the run's partition window, read statelessly through
  ``EventsWindow`` (no stream cursor is kept or moved), merged on event id, so re-running or backfilling
  any range twice gives the same rows. A backfill of many days runs as one run over the whole range (the
  default single-run backfill policy for time partitions): one pass over the API instead of one per day,
  which matters with the events endpoint's 10 requests a minute. The run that includes the newest day also
  reads the events after it (see :func:`pipeline.defs.partitions.events_window`).

dagster-dlt needs a source instance and a pipeline when the module is imported, to list the assets. Both
are built without settings: a source with no org sessions (its resources are lazy, so nothing is called)
and a pipeline in a throw-away folder (dlt creates its working folder in the constructor, and the real one
lives in the data folder, known only at run time). The asset bodies pass the real source and pipeline.
"""

import tempfile
import time
from collections.abc import Iterator, Sequence
from typing import Any

import dagster as dg
import dlt as dlt_lib
from dagster_dlt import DagsterDltResource, dlt_assets

from pipeline.defs.layout import DUCKDB_POOL
from pipeline.defs.partitions import audit_event_days, events_window
from pipeline.defs.translator import SeatwatchDltTranslator, dlt_asset_key, dlt_resource_name
from pipeline.extract import (
    DATASET_NAME,
    LOADER_FILE_FORMAT,
    PIPELINE_NAME,
    make_pipeline,
    open_sessions,
    unwrap_error,
)
from pipeline.progress import terminal_reporter
from pipeline.settings import Settings
from pipeline.sources.atlassian_admin import EventsWindow, ProgressFn, RunInfo, atlassian_admin
from pipeline.warehouse import ensure_warehouse

EVENTS_RESOURCE = "audit_events"
USERS_KEY = dlt_asset_key("users")
EXTRACT_RUNS_KEY = dlt_asset_key("extract_runs")
AUDIT_EVENTS_KEY = dlt_asset_key(EVENTS_RESOURCE)

_SPEC_SOURCE = atlassian_admin([], RunInfo(run_id="definitions", activity_lag_hours=24))
SNAPSHOT_RESOURCES = tuple(name for name in _SPEC_SOURCE.resources if name != EVENTS_RESOURCE)
_PROGRESS_LOG_SECONDS = 10.0


def _spec_pipeline() -> dlt_lib.Pipeline:
    with tempfile.TemporaryDirectory() as scratch:
        return dlt_lib.pipeline(
            pipeline_name=PIPELINE_NAME,
            destination="duckdb",
            dataset_name=DATASET_NAME,
            pipelines_dir=scratch,
        )


_SPEC_PIPELINE = _spec_pipeline()
_TRANSLATOR = SeatwatchDltTranslator()


def _log_progress(log: Any) -> ProgressFn:
    """The source's progress callback, as one log line per step every few seconds (a fan-out is long)."""
    last: dict[str, float] = {}
    terminal = terminal_reporter()

    def report(step: str, counters: dict[str, Any]) -> None:
        if terminal is not None:
            terminal(step, counters)
        now = time.monotonic()
        if now - last.get(step, 0.0) >= _PROGRESS_LOG_SECONDS:
            last[step] = now
            log.info(f"{step}: " + ", ".join(f"{key} {value}" for key, value in counters.items()))

    return report


def _load(
    context: dg.AssetExecutionContext,
    dlt: DagsterDltResource,
    settings: Settings,
    resources: Sequence[str],
    window: EventsWindow | None = None,
) -> Iterator[dg.MaterializeResult]:
    run = RunInfo(
        run_id=context.run_id,
        activity_lag_hours=settings.activity_lag_hours,
        strategy=settings.last_active_strategy,
        events_window=window,
    )
    with open_sessions(settings) as sessions:
        ensure_warehouse(settings.warehouse_path)
        source = atlassian_admin(sessions, run, _log_progress(context.log)).with_resources(*resources)
        pipeline = make_pipeline(settings)
        # A package left by a killed run: this step holds the duckdb_writer pool, so no live run uses it.
        pipeline.abort_packages()
        try:
            # The load format of `seatwatch extract` too: JSON lines take far less memory than INSERTs.
            results = list(dlt.run(context, source, pipeline, loader_file_format=LOADER_FILE_FORMAT))
        except Exception as error:
            cause = unwrap_error(error)  # our one-line error (bad key, API down) instead of dlt's wrapper
            if cause is error:
                raise
            raise cause from None
        extra = _run_metadata(context, sessions)
    for result in results:
        key = result.asset_key
        assert key is not None
        yield dg.MaterializeResult(asset_key=key, metadata={**(result.metadata or {}), **extra.get(key, {})})


def _run_metadata(context: dg.AssetExecutionContext, sessions: Sequence[Any]) -> dict[dg.AssetKey, dict]:
    """Where each table is, the API calls of the run, and the API's own user count (reconciliation)."""
    selected = context.selected_asset_keys
    # dagster-dlt names the table after the dlt schema (`atlassian_admin.users`); the dataset is `raw`.
    extra: dict[dg.AssetKey, dict] = {
        key: {"dagster/table_name": f"{DATASET_NAME}.{dlt_resource_name(key)}"} for key in selected
    }
    if EXTRACT_RUNS_KEY in selected:
        extra[EXTRACT_RUNS_KEY].update(
            {
                f"api_{name}": dg.MetadataValue.int(sum(getattr(s.api.stats, name) for s in sessions))
                for name in ("calls", "retries", "rate_limited")
            }
        )
    if USERS_KEY in selected:
        # Asked right after the load, so the API has had the least time to change in between.
        counts = {s.org_id: s.api.count_users(s.org_id) for s in sessions}
        extra[USERS_KEY]["api_user_count"] = dg.MetadataValue.json(counts)
    return extra


@dlt_assets(
    dlt_source=_SPEC_SOURCE.with_resources(*SNAPSHOT_RESOURCES),
    dlt_pipeline=_SPEC_PIPELINE,
    name="atlassian_snapshot",
    dagster_dlt_translator=_TRANSLATOR,
    pool=DUCKDB_POOL,
)
def atlassian_snapshot(
    context: dg.AssetExecutionContext, dlt: DagsterDltResource, atlassian: dg.ResourceParam[Settings]
) -> Iterator[dg.MaterializeResult]:
    yield from _load(context, dlt, atlassian, SNAPSHOT_RESOURCES)


@dlt_assets(
    dlt_source=_SPEC_SOURCE.with_resources(EVENTS_RESOURCE),
    dlt_pipeline=_SPEC_PIPELINE,
    name="atlassian_audit_events",
    dagster_dlt_translator=_TRANSLATOR,
    partitions_def=audit_event_days,
    pool=DUCKDB_POOL,
)
def atlassian_audit_events(
    context: dg.AssetExecutionContext, dlt: DagsterDltResource, atlassian: dg.ResourceParam[Settings]
) -> Iterator[dg.MaterializeResult]:
    yield from _load(context, dlt, atlassian, (EVENTS_RESOURCE,), events_window(context))
