"""The outcome of each run in ``raw.extract_runs.status``: never ``success`` for a run that did not finish.

The extract writes its row with status ``running``. The run's last step (publishing) sets ``success`` just
before it copies the warehouse, so the published copy and the warehouse agree, and ``failed`` if the copy
fails. A run killed before that keeps ``running`` until the next run, which holds the data folder and
settles every such row from the run's Dagster record: ``success`` when Dagster recorded the run a success
(a run from the UI that materialised a subset without publishing), else ``failed``. ``seatwatch extract``
(no Dagster run, no publishing) sets ``success`` once its load has finished.

``marts.pipeline_runs`` shows a ``running`` row as ``success`` only for the run that built the marts (it
finished its extract and is publishing them); see the model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from pipeline.warehouse import connect

RUNNING, SUCCESS, FAILED = "running", "success", "failed"

_HAS_TABLE = "select count(*) from duckdb_tables() where schema_name = 'raw' and table_name = 'extract_runs'"


def set_status(warehouse: Path, run_ids: Iterable[str], status: str) -> None:
    """Record ``status`` for the rows of ``run_ids`` that are still ``running``."""
    ids = list(run_ids)
    if not ids or not warehouse.exists():
        return
    with connect(warehouse) as con:
        if not con.execute(_HAS_TABLE).fetchone()[0]:
            return
        con.execute(
            "update raw.extract_runs set status = $status where run_id in (select unnest($ids))"
            " and status = $running",
            {"status": status, "ids": ids, "running": RUNNING},
        )


def unsettled_runs(warehouse: Path) -> list[str]:
    """Run ids whose row still says ``running``."""
    if not warehouse.exists():
        return []
    with connect(warehouse, read_only=True) as con:
        if not con.execute(_HAS_TABLE).fetchone()[0]:
            return []
        rows = con.execute(
            "select distinct run_id from raw.extract_runs where status = $running", {"running": RUNNING}
        ).fetchall()
    return [run_id for (run_id,) in rows]


def settle_finished_runs(warehouse: Path, outcome_of: Callable[[str], str | None]) -> None:
    """Give every ``running`` row whose run has ended its outcome. ``outcome_of(run_id)`` says
    ``success`` / ``failed`` for an ended run, None for a run still in progress."""
    outcomes: dict[str, list[str]] = {SUCCESS: [], FAILED: []}
    for run_id in unsettled_runs(warehouse):
        outcome = outcome_of(run_id)
        if outcome is not None:
            outcomes[outcome].append(run_id)
    for status, run_ids in outcomes.items():
        set_status(warehouse, run_ids, status)


def force_status(warehouse: Path, run_ids: Iterable[str], status: str) -> None:
    """Record ``status`` whatever the rows say (a run that was killed, or whose publishing failed after it
    had been recorded a success)."""
    ids = list(run_ids)
    if not ids or not warehouse.exists():
        return
    with connect(warehouse) as con:
        if con.execute(_HAS_TABLE).fetchone()[0]:
            con.execute(
                "update raw.extract_runs set status = $status where run_id in (select unnest($ids))",
                {"status": status, "ids": ids},
            )
