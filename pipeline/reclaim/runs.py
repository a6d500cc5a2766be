"""What apply, undo and abandon share: the journal's runs (finding one, the way out of an interrupted one),
the loop over one run's actions, and the outcome the callers print."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from pipeline.config.errors import SeatwatchError
from pipeline.reclaim.calls import ReclaimInterrupted, ReclaimRefused, Say, Writer, resolve_intent
from pipeline.reclaim.journal import (
    APPLIED,
    FAILED,
    FINISHED,
    INTENT,
    PLANNED,
    RUNNING,
    SKIPPED,
    STOPPED,
    Entry,
    Journal,
    RunRecord,
)


@dataclass
class Outcome:
    run_id: str | None
    kind: str
    dry_run: bool = False
    resumed: bool = False
    cap: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def never() -> bool:
    return False


def find_run(journal: Journal, given: str, kind: str | None = None) -> RunRecord:
    """The run ``given`` names (its id or a unique prefix of 6+ characters), or a one-line refusal."""
    run = journal.run(given)
    if run is None and len(given) >= 6:
        matches = [r for r in journal.all_runs() if r.run_id.startswith(given)]
        run = matches[0] if len(matches) == 1 else None
    if run is None or (kind is not None and run.kind != kind):
        what = f"{kind} run" if kind else "run"
        raise ReclaimRefused(
            f"No {what} {given} in the journal: give the run id `seatwatch reclaim {kind or 'apply'}` "
            "printed (or a unique prefix of it)."
        )
    return run


def way_out(run: RunRecord) -> str:
    """The two commands that end an interrupted run: finish it, or abandon it."""
    abandon = f"abandon it with `seatwatch reclaim apply --abandon {run.run_id[:8]}`"
    if run.kind == "apply":
        return (
            f"finish it with `seatwatch reclaim apply --plan {run.plan_path} --yes` (what it started is "
            f"checked again and finished, even after the plan expired) or {abandon}"
        )
    return f"finish it with `seatwatch reclaim undo --apply-run {(run.undoes_run_id or '')[:8]}` or {abandon}"


def refuse_interrupted(journal: Journal, *, but: str | None = None) -> None:
    """Refuse while a run other than ``but`` was interrupted (still ``running``: the caller holds the data
    folder, so its process is dead), naming the way out."""
    for run in journal.unfinished_runs():
        if run.status == RUNNING and run.run_id != but:
            raise ReclaimRefused(
                f"{run.kind.capitalize()} run {run.run_id[:8]} was interrupted: {way_out(run)}."
            )


def pending_actions(journal: Journal, run_id: str) -> list[tuple[str, list[Entry], bool]]:
    """The run's unfinished actions in order: (action key, entries not done, whether any write was tried)."""
    tried = {entry.action_key for entry in journal.entries(run_id) if entry.state != PLANNED}
    pending = journal.entries(run_id, [PLANNED, INTENT])
    return [(key, list(group), key in tried) for key, group in groupby(pending, key=lambda e: e.action_key)]


def failures_of(rows: list[dict[str, Any]]) -> list[str]:
    return [
        f"{row['action']} {row['group_name'] or ''} for {row['account_id']}: {row['reason']}"
        for row in rows
        if row["state"] == FAILED
    ]


@dataclass
class ActionLoop:
    journal: Journal
    run_id: str
    kind: str
    apis: Mapping[str, Any]
    writer: Writer
    say: Say
    should_stop: Callable[[], bool]
    next_step: str  # what to run to go on after a stop

    def check_stop(self) -> None:
        if self.should_stop():
            self.journal.finish_run(self.run_id, STOPPED)
            raise ReclaimInterrupted(self.kind, self.run_id, self.next_step)

    def process(self, entries: list[Entry], check: Callable[[list[Entry]], str | None] | None) -> None:
        """One action: settle its writes left ``intent``, check the rest again (``check``), then write."""
        api = self.apis[entries[0].org_id]
        pending = []
        for entry in entries:
            if entry.state == INTENT and resolve_intent(
                self.journal, api, entry, self.say, unknown_state=None
            ):
                self._applied(entry)
            else:
                pending.append(entry)
        if not pending:
            return
        reason = check(pending) if check is not None else None
        if reason:
            for entry in pending:
                self.journal.settle(entry.action_id, SKIPPED, reason=reason)
            return
        for entry in pending:
            self.check_stop()
            if self.writer.write(api, entry) == APPLIED:
                self._applied(entry)

    def _applied(self, entry: Entry) -> None:
        if entry.undoes_action_id:
            self.journal.mark_undone(entry.undoes_action_id, self.run_id)


@contextmanager
def recorded_run(journal: Journal, run_id: str) -> Iterator[None]:
    """The run ends finished, or stopped when one of Seatwatch's errors ends it (recorded, then raised)."""
    try:
        yield
    except SeatwatchError:
        journal.finish_run(run_id, STOPPED)
        raise
    journal.finish_run(run_id, FINISHED)


def outcome_of(journal: Journal, run_id: str, kind: str, **fields: Any) -> Outcome:
    """What an apply or undo run did, as its caller prints it."""
    rows = journal.rows(run_id)
    return Outcome(
        run_id, kind, counts=journal.counts(run_id), rows=rows, failures=failures_of(rows), **fields
    )
