"""``seatwatch reclaim undo``: put back what one apply run changed, journaled like apply.

Undo journals the reverse of every ``applied`` write of one apply run (a removal → an add, a suspension → a
restore), answers lost included, and works through them the same way (:mod:`pipeline.reclaim.calls`). It
works whatever state other runs are in; only the run it undoes must have ended (finished, stopped or
abandoned: an interrupted run's last write is unknown until it is finished or abandoned). A re-add refused
for the product's user limit, or by a group now managed by an identity provider, fails that write only, and
is reported. An undo run killed or stopped is resumed by the next undo of the same apply run.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from pipeline.config.seeds import product_aliases
from pipeline.config.settings import Settings
from pipeline.reclaim.calls import UNDO_OF, GroupReader, ReclaimRefused, Say, Writer, open_apis
from pipeline.reclaim.journal import APPLIED, RUNNING, Journal, action_id
from pipeline.reclaim.runs import (
    ActionLoop,
    Outcome,
    find_run,
    never,
    outcome_of,
    pending_actions,
    recorded_run,
    way_out,
)


def undo_apply(
    settings: Settings,
    apply_run_id: str,
    *,
    trigger: str,
    say: Say,
    client_options: Mapping[str, Any] | None = None,
    should_stop: Callable[[], bool] = never,
) -> Outcome:
    """Restore what one apply run changed (see the module docstring). The caller holds the lock."""
    with Journal.open(settings.warehouse_path) as journal:
        target = find_run(journal, apply_run_id, "apply")
        if target.status == RUNNING:
            raise ReclaimRefused(
                f"Apply run {target.run_id[:8]} was interrupted: {way_out(target)}; then undo it."
            )
        resumed = next(
            (
                run
                for run in reversed(journal.unfinished_runs())
                if run.kind == "undo" and run.undoes_run_id == target.run_id
            ),
            None,
        )
        applied = journal.entries(target.run_id, [APPLIED])
        if resumed is not None:
            run_id = resumed.run_id
            journal.reopen_run(run_id)
            say(f"Resuming undo run {run_id[:8]}, which stopped before it finished.")
        else:
            if not applied:
                raise ReclaimRefused(f"Apply run {target.run_id[:8]} has nothing applied left to undo.")
            run_id = uuid.uuid4().hex
        orgs = {entry.org_id for entry in applied} | {e.org_id for e in journal.entries(run_id)}
        with open_apis(settings, orgs, client_options) as apis:
            if resumed is None:
                journal.start_run(run_id, "undo", trigger, plan_hash=None, undoes_run_id=target.run_id)
                journal.add_planned(
                    [
                        {
                            "action_id": action_id("undo", run_id, entry.action_id),
                            "plan_hash": f"undo:{target.run_id}",
                            "apply_run_id": run_id,
                            "seq": entry.seq,
                            "action_key": f"undo/{entry.action_id}",
                            "action": UNDO_OF[entry.action],
                            "org_id": entry.org_id,
                            "directory_id": entry.directory_id,
                            "group_id": entry.group_id,
                            "group_name": entry.group_name,
                            "account_id": entry.account_id,
                            "product_key": entry.product_key,
                            "site_id": entry.site_id,
                            "undoes_action_id": entry.action_id,
                        }
                        for entry in applied
                    ]
                )
            writer = Writer(journal, GroupReader(apis, product_aliases()), say, undo=True)
            next_step = f"`seatwatch reclaim undo --apply-run {target.run_id[:8]}` goes on"
            run = ActionLoop(journal, run_id, "undo", apis, writer, say, should_stop, next_step)
            with recorded_run(journal, run_id):
                for _, entries, _ in pending_actions(journal, run_id):
                    run.check_stop()
                    run.process(entries, None)
        return outcome_of(journal, run_id, "undo", resumed=resumed is not None)
