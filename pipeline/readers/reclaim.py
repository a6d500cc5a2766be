"""The reclaim journal as readers see it (``marts.reclaim_actions``): what ``seatwatch run`` and
``seatwatch status`` say about recent apply and undo runs, and whether their writes were verified."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pipeline.warehouse import connect

# The latest few runs of the journal, newest first, with their writes counted by (verified) state.
_RUNS_SQL = """
select
    apply_run_id,
    min(planned_at) as started_at,
    count(*) filter (where state = 'verified') as verified,
    count(*) filter (where state = 'applied' and verification = 'awaiting a run after the write') as awaiting,
    count(*) filter (where state = 'applied' and verification != 'awaiting a run after the write')
        as not_verified,
    count(*) filter (where state = 'skipped') as skipped,
    count(*) filter (where state = 'failed') as failed,
    count(*) filter (where state = 'undone') as undone,
    count(*) filter (where state in ('planned', 'intent')) as pending,
    bool_or(undoes_action_id is not null) as is_undo,
    first(verification order by verification) filter (
        where state = 'applied' and verification != 'awaiting a run after the write'
    ) as problem
from marts.reclaim_actions
group by apply_run_id
order by started_at desc
limit $limit
"""


@dataclass(frozen=True)
class ReclaimRun:
    run_id: str
    kind: str
    verified: int
    awaiting: int
    not_verified: int
    skipped: int
    failed: int
    undone: int
    pending: int
    problem: str | None

    def line(self) -> str:
        parts = [
            f"{count} {label}"
            for count, label in (
                (self.verified, "verified"),
                (self.awaiting, "awaiting verification"),
                (self.not_verified, f"NOT verified ({self.problem})"),
                (self.undone, "undone"),
                (self.skipped, "skipped"),
                (self.failed, "failed"),
                (self.pending, "not done (run the command again)"),
            )
            if count
        ]
        return f"  {self.kind} run {self.run_id[:8]}: {', '.join(parts) or 'no writes'}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def reclaim_runs(published: Path, limit: int = 3) -> list[ReclaimRun]:
    """The latest reclaim runs in the published copy; empty when none (or an older copy without them)."""
    with connect(published, read_only=True) as con:
        has_table = con.execute(
            "select count(*) from duckdb_tables() "
            "where schema_name = 'marts' and table_name = 'reclaim_actions'"
        ).fetchone()[0]
        if not has_table:
            return []
        rows = con.execute(_RUNS_SQL, {"limit": limit}).fetchall()
    return [
        ReclaimRun(run_id, "undo" if is_undo else "apply", *counts, problem)
        for run_id, _, *counts, is_undo, problem in rows
    ]


def format_reclaim(runs: list[ReclaimRun]) -> list[str]:
    if not runs:
        return []
    return ["", "Seat reclamation (marts.reclaim_actions, latest runs first):", *(run.line() for run in runs)]
