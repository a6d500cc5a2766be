"""The Dagster job that applies an approved reclaim plan: ``seatwatch_reclaim_apply``, never scheduled.

Launched from the UI's launchpad with the plan's path and ``approved: true`` (a run without the approval
fails before anything is read). It calls :func:`pipeline.reclaim.apply.apply_plan`, the code path of
``seatwatch reclaim apply --yes``, under the data-folder lock and the ``duckdb_writer`` pool, and records a
materialisation of ``reclaim_journal`` (the journal in the warehouse, the source of
``marts.reclaim_actions``) with the run's counts and its rows, so the UI shows every apply run and what it
did.
"""

from pathlib import Path

import dagster as dg

from pipeline.config.settings import Settings
from pipeline.config.shared import RECLAIM_JOB_NAME
from pipeline.defs.pools import DUCKDB_POOL
from pipeline.reclaim.apply import apply_plan
from pipeline.reclaim.calls import check_settings_for_writes
from pipeline.reclaim.plan import DEFAULT_MAX_ACTIONS
from pipeline.runtime.locking import data_folder_lock

RECLAIM_JOURNAL_KEY = dg.AssetKey("reclaim_journal")

reclaim_journal = dg.AssetSpec(
    RECLAIM_JOURNAL_KEY,
    group_name="reclaim",
    kinds={"duckdb"},
    description=(
        "reclaim.actions in warehouse.duckdb: every Admin API write of seatwatch reclaim apply and undo, "
        "with its state, times and request id. Materialised by each run of seatwatch_reclaim_apply (and "
        "written by the CLI); published as marts.reclaim_actions, verified by the next daily run."
    ),
)


class ApplyPlanConfig(dg.Config):
    plan_path: str
    approved: bool = False
    max_actions: int = DEFAULT_MAX_ACTIONS


def _markdown(rows: list[dict]) -> str:
    lines = ["| # | state | action | account | group | product | reason |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        cells = [row["seq"], row["state"], row["action"], row["account_id"], row["group_name"] or "",
                 row["product_key"] or "", (row["reason"] or "").replace("|", "/")]  # fmt: skip
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    return "\n".join(lines)


@dg.op(pool=DUCKDB_POOL, description="Apply an approved reclaim plan (seatwatch reclaim apply --yes).")
def apply_reclaim_plan(
    context: dg.OpExecutionContext, config: ApplyPlanConfig, settings: dg.ResourceParam[Settings]
) -> None:
    if not config.approved:
        raise dg.Failure(
            "The plan is not approved: set `approved: true` in the run config once a person has read it "
            "(`seatwatch reclaim apply --plan … ` without --yes shows what it would do)."
        )
    check_settings_for_writes(settings)
    with data_folder_lock(
        settings.data_dir,
        timeout_seconds=settings.wait_timeout_seconds,
        command="reclaim apply",
        say=context.log.info,
    ):
        outcome = apply_plan(
            settings,
            Path(config.plan_path),
            max_actions=config.max_actions,
            trigger="dagster",
            say=context.log.info,
        )
    metadata: dict[str, dg.MetadataValue] = {
        "apply_run_id": dg.MetadataValue.text(outcome.run_id or ""),
        "plan": dg.MetadataValue.path(config.plan_path),
        "resumed": dg.MetadataValue.bool(outcome.resumed),
        "cap": dg.MetadataValue.int(outcome.cap),
        "journal": dg.MetadataValue.md(_markdown(outcome.rows)),
    }
    for state, count in outcome.counts.items():
        metadata[f"writes_{state}"] = dg.MetadataValue.int(count)
    context.log_event(dg.AssetMaterialization(asset_key=RECLAIM_JOURNAL_KEY, metadata=metadata))


@dg.job(
    name=RECLAIM_JOB_NAME,
    description=(
        "Apply an approved reclaim plan file through the Admin API (config: plan_path, approved, "
        "max_actions). Never scheduled: a person launches it."
    ),
    executor_def=dg.in_process_executor,
)
def reclaim_apply_job() -> None:
    apply_reclaim_plan()
