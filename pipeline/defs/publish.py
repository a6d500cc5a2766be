"""The published copy: what analysts and BI tools open, replaced atomically after the marts are built,
with the HTML report (``data/report.html``) written beside it from the fresh copy and linked in the UI.

Its materialisation carries the run's headline numbers (API calls, users by lifecycle status, reclaim
candidates, reclaimable cost), read back from the fresh copy so the UI shows exactly what readers will see.
"""

from collections.abc import Sequence

import dagster as dg
import duckdb

from pipeline.config.errors import lock_error_in
from pipeline.config.settings import Settings
from pipeline.config.shared import FINAL, ProgressFn
from pipeline.defs.pools import DUCKDB_POOL
from pipeline.defs.translator import PUBLISHED_GROUP
from pipeline.readers.report.page import report_path_beside, write_report
from pipeline.readers.run_history import PUBLISHED_COPY_KEY, TEAM_WAREHOUSE_KEY
from pipeline.readers.summary import RunSummary, build_summary
from pipeline.runtime.run_records import FAILED, SUCCESS, force_status, set_status
from pipeline.team_warehouse import publish_to_destination
from pipeline.warehouse import connect, publish

# This run's extract when it had one (a run may only rebuild the marts), else the latest extract.
_RUN_STATS_SQL = """
select sum(api_calls), sum(api_retries), sum(api_rate_limited), max(as_of_date)::varchar
from marts.pipeline_runs
where run_id = (
    select run_id from marts.pipeline_runs order by run_id = $run_id desc, extracted_at desc limit 1
)
"""


def run_metadata(summary: RunSummary, api_stats: tuple) -> dict[str, dg.MetadataValue]:
    """Numbers worth a plot over time in the UI (one int or float per entry), plus the breakdowns."""
    calls, retries, rate_limited, as_of = api_stats
    candidates = sum(p.cleanup_ready + p.needs_review for p in summary.products)
    metadata: dict[str, dg.MetadataValue] = {
        "api_calls": dg.MetadataValue.int(int(calls or 0)),
        "api_retries": dg.MetadataValue.int(int(retries or 0)),
        "api_rate_limited": dg.MetadataValue.int(int(rate_limited or 0)),
        "as_of_date": dg.MetadataValue.text(as_of or ""),
        "reclaim_candidates": dg.MetadataValue.int(candidates),
        "est_monthly_reclaimable_cost": dg.MetadataValue.float(summary.est_monthly_reclaimable_cost),
        "users_by_lifecycle_status": dg.MetadataValue.json(summary.users_by_status),
    }
    for status, count in summary.users_by_status.items():
        metadata[f"users_{status}"] = dg.MetadataValue.int(count)
    return metadata


def build_published_copy(marts: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        name=PUBLISHED_COPY_KEY,
        group_name=PUBLISHED_GROUP,
        deps=marts,
        pool=DUCKDB_POOL,
        kinds={"duckdb"},
        description=(
            "data/seatwatch.duckdb: the documented marts for readers, DuckDB 1.x compatible; "
            "data/report.html: the HTML report built from them."
        ),
    )
    def published_copy(
        context: dg.AssetExecutionContext,
        settings: dg.ResourceParam[Settings],
        progress: dg.ResourceParam[ProgressFn],
    ) -> dg.MaterializeResult:
        progress("publish", {"copy": str(settings.published_path)})
        # The run's records say success in the copy too; a copy that fails leaves them saying failed.
        set_status(settings.warehouse_path, [context.run_id], SUCCESS)
        try:
            target = publish(settings.warehouse_path, settings.published_path)
        except BaseException as error:
            force_status(settings.warehouse_path, [context.run_id], FAILED)
            if isinstance(error, duckdb.IOException):
                raise (lock_error_in(str(error)) or error) from None
            raise
        report = write_report(target, report_path_beside(target))
        summary = build_summary(target)
        progress("publish", {"copy": str(target), "report": str(report), FINAL: True})
        with connect(target, read_only=True) as con:
            api_stats = con.execute(_RUN_STATS_SQL, {"run_id": context.run_id}).fetchone()
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(target)),
                "report": dg.MetadataValue.path(str(report)),
                "report_url": dg.MetadataValue.url(report.as_uri()),
                **run_metadata(summary, api_stats),
            }
        )

    return published_copy


@dg.asset(
    name=TEAM_WAREHOUSE_KEY,
    group_name=PUBLISHED_GROUP,
    deps=[PUBLISHED_COPY_KEY],
    # It only reads the published copy, but takes its turn like every step of a run: the instance runs one
    # step of the data folder at a time, so a run from the UI never publishes while this one does.
    pool=DUCKDB_POOL,
    kinds={"dlt"},
    output_required=False,
    description=(
        "The published marts loaded with dlt into the team's warehouse (SEATWATCH_PUBLISH_DESTINATION, "
        "dataset SEATWATCH_PUBLISH_DATASET): the same tables and columns as data/seatwatch.duckdb, "
        "swapped in at once. Skipped when no destination is configured (docs/team-setup.md)."
    ),
)
def team_warehouse(
    context: dg.AssetExecutionContext,
    settings: dg.ResourceParam[Settings],
    progress: dg.ResourceParam[ProgressFn],
):
    """Runs after the published copy, so a warehouse that is down fails this step only: the copy and the
    report are already written, and the next run publishes again."""
    if settings.publish_destination is None:
        context.log.info("No SEATWATCH_PUBLISH_DESTINATION: the marts are published to the DuckDB copy only.")
        return
    where = f"{settings.publish_destination}:{settings.publish_dataset}"
    progress("warehouse", {"to": where})
    done = publish_to_destination(
        settings.published_path, settings.data_dir, settings.publish_destination, settings.publish_dataset
    )
    progress("warehouse", {"to": where, "rows": done.rows, FINAL: True})
    yield dg.MaterializeResult(
        metadata={
            "destination": dg.MetadataValue.text(done.destination),
            "dataset": dg.MetadataValue.text(done.dataset),
            "tables": dg.MetadataValue.int(done.tables),
            "rows": dg.MetadataValue.int(done.rows),
            "seconds": dg.MetadataValue.float(done.seconds),
            "strategy": dg.MetadataValue.text(done.strategy),
        }
    )
