"""The reclaim policy's step of the daily job: ``reclaim_policy``, downstream of the published copy.

Every successful daily run (``seatwatch run``, the schedule, a UI launch) ends with it, so there is one code
path: :func:`pipeline.reclaim.policy.run_policy`. With ``SEATWATCH_RECLAIM_POLICY=off`` (the default) it does
nothing. A channel that is down does not fail the step (the data run succeeded and published): its
materialisation, the digest and ``seatwatch status`` say what failed, and the next run retries.
"""

import dagster as dg

from pipeline.config.policy import OFF
from pipeline.config.settings import Settings
from pipeline.config.shared import FINAL, ProgressFn
from pipeline.defs.pools import DUCKDB_POOL
from pipeline.readers.run_history import PUBLISHED_COPY_KEY
from pipeline.reclaim.policy import PolicyStopped, run_policy

RECLAIM_NOTICES_KEY = dg.AssetKey("reclaim_notices_journal")

reclaim_notices_journal = dg.AssetSpec(
    RECLAIM_NOTICES_KEY,
    group_name="reclaim",
    kinds={"duckdb"},
    description=(
        "reclaim.notices in warehouse.duckdb: every notice of the reclaim policy (planned, sent, cancelled, "
        "due, applied, failed), written by the reclaim_policy step; published as marts.reclaim_notices."
    ),
)


@dg.asset(
    name="reclaim_policy",
    group_name="policy",
    deps=[dg.AssetKey(PUBLISHED_COPY_KEY)],
    pool=DUCKDB_POOL,
    kinds={"python"},
    description=(
        "The reclaim policy (SEATWATCH_RECLAIM_POLICY; off by default): notices to the holders of "
        "cleanup-ready seats, cancellations, removals once the notice period has passed (enforce), and the "
        "admin digest. docs/policy.md."
    ),
)
def reclaim_policy(
    context: dg.AssetExecutionContext,
    settings: dg.ResourceParam[Settings],
    progress: dg.ResourceParam[ProgressFn],
) -> dg.MaterializeResult:
    mode = settings.policy.mode
    if mode == OFF:
        return dg.MaterializeResult(metadata={"mode": dg.MetadataValue.text(mode)})
    try:
        outcome = run_policy(settings, run_id=context.run_id, say=context.log.info)
    except PolicyStopped as stopped:
        context.log.warning(str(stopped))
        return dg.MaterializeResult(metadata={"mode": mode, "stopped": str(stopped)})
    for problem in outcome.problems:
        context.log.warning(problem)
    counts = outcome.counts()
    progress("policy", {"mode": mode, **counts, FINAL: True})
    return dg.MaterializeResult(
        metadata={
            "mode": dg.MetadataValue.text(mode),
            **{name: dg.MetadataValue.int(count) for name, count in counts.items()},
            "problems": dg.MetadataValue.text("\n".join(outcome.problems) or "none"),
            "undo": dg.MetadataValue.text(
                ", ".join(f"seatwatch reclaim undo --apply-run {run[:8]}" for run in outcome.undo_runs)
                or "none"
            ),
        }
    )
