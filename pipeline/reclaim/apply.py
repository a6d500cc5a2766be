"""``seatwatch reclaim apply``: a plan's actions through the Admin API, journaled; its dry run; abandon.

The one code path of the CLI and the Dagster job. The caller holds the data folder (the CLI through its
run guard, the Dagster op through the lock and the ``duckdb_writer`` pool); this module opens the journal,
the API clients (one per org, paced like every other call) and works through the plan's actions in order:

* an action is journaled ``planned`` (the current data's version of it: :mod:`pipeline.reclaim.current`),
  then checked again just before its writes: the current data must call for it, and a fresh read of the
  user and of each group (:mod:`pipeline.reclaim.fresh`) must show nothing that forbids it; otherwise it is
  ``skipped`` with the reason. Then per write ``intent`` → the call → the result (:mod:`.calls`);
* the cap (``--max``, at most 10 % of the seats the data holds now) counts every action that may have
  changed something: all but the skipped and the refused;
* a run killed at any point is resumed by the next apply of the same plan (same run id, same cap): writes
  left ``intent`` are settled by a read, the rest checked again. A plan that has expired in between finishes
  what its run had journaled and takes no new action. ``--abandon RUN`` closes a run instead;
* a stop request (Ctrl-C, SIGTERM) is honoured between two writes: the run is recorded ``stopped``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.config.seeds import dbt_var, exempt_accounts, product_aliases
from pipeline.config.settings import Settings
from pipeline.reclaim.calls import (
    GroupReader,
    ReclaimRefused,
    Say,
    Writer,
    open_apis,
    read_user,
    resolve_intent,
)
from pipeline.reclaim.current import CurrentData
from pipeline.reclaim.fresh import group_refusal, skip_reason
from pipeline.reclaim.journal import (
    ABANDONED,
    APPLIED,
    INTENT,
    PLANNED,
    RUNNING,
    SKIPPED,
    STOPPED,
    UNDONE,
    Entry,
    Journal,
    RunRecord,
    action_id,
)
from pipeline.reclaim.plan import REMOVE, PlanError, age_refusal, load_plan
from pipeline.reclaim.runs import (
    ActionLoop,
    Outcome,
    find_run,
    never,
    outcome_of,
    pending_actions,
    recorded_run,
    refuse_interrupted,
)

# Journal states of an action that may have changed something: they count against the cap.
COUNTED = (PLANNED, INTENT, APPLIED, UNDONE)


def _to_resume(journal: Journal, plan_hash: str) -> RunRecord | None:
    runs = [r for r in journal.unfinished_runs() if r.kind == "apply" and r.plan_hash == plan_hash]
    return runs[-1] if runs else None


# ---- rows ------------------------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _planned_rows(plan_hash: str, run_id: str, action: dict[str, Any], seq: int) -> list[dict[str, Any]]:
    """The journal rows of one action (the current data's version, or the file's when there is none)."""
    seat = action["seats"][0]
    price = action.get("monthly_cost")
    rows = []
    for write in action["writes"]:
        seq += 1
        kind, group_id = str(write.get("write")), _text(write.get("group_id"))
        rows.append(
            {
                "action_id": action_id(plan_hash, action["action_key"], kind, group_id or ""),
                "plan_hash": plan_hash,
                "apply_run_id": run_id,
                "seq": seq,
                "action_key": action["action_key"],
                "action": kind,
                "org_id": action["org_id"],
                "directory_id": _text(write.get("directory_id")),
                "group_id": group_id,
                "group_name": _text(write.get("group_name")),
                "account_id": action["account_id"],
                "product_key": _text(seat.get("product_key")),
                "site_id": _text(seat.get("site_id")),
                "reclaim_reason": _text(action.get("reclaim_reason")),
                "monthly_seat_price": price if isinstance(price, int | float) and abs(price) < 1e8 else None,
            }
        )
    return rows


def _counted(journal: Journal, run_id: str) -> int:
    """Actions of the run that may have changed something: all but the skipped and the refused."""
    return len({entry.action_key for entry in journal.entries(run_id) if entry.state in COUNTED})


# ---- the checks before an action ------------------------------------------------------------------------


@dataclass
class _Checks:
    """The checks just before an action's writes: the current data, then the API now."""

    current: CurrentData
    apis: Mapping[str, Any]
    groups: GroupReader
    aliases: dict[str, str]
    exempt: set[str] = field(default_factory=exempt_accounts)
    admin_roles: set[str] = field(default_factory=lambda: set(dbt_var("admin_role_ids")))
    admin_name_pattern: str = field(default_factory=lambda: str(dbt_var("admin_group_name_pattern")))

    def reason(self, requested: dict[str, Any], pending: list[Entry], started: bool) -> str | None:
        writes = [
            {
                "write": e.action,
                "directory_id": e.directory_id,
                "group_id": e.group_id,
                "group_name": e.group_name,
            }
            for e in pending
        ]
        refusal = self.current.refusal(requested, remaining=writes if started else None)
        if refusal:
            return refusal
        action = self.current.actions[requested["action_key"]]
        api = self.apis[action["org_id"]]
        fresh = read_user(api, action["org_id"], action["account_id"], self.aliases)
        reason = skip_reason(action, fresh, self.exempt, writes=writes)
        if reason or action["kind"] != "remove_memberships":
            return reason
        for write in writes:
            if write["write"] != REMOVE:
                return f"the plan asks for {write['write']}, which apply never does"
            group = self.groups.get(action["org_id"], write["directory_id"], write["group_id"])
            reason = group_refusal(
                write,
                action["seats"][0],
                group,
                admin_roles=self.admin_roles,
                admin_name_pattern=self.admin_name_pattern,
            )
            if reason:
                return reason
        return None


# ---- apply -----------------------------------------------------------------------------------------------


def _cap_orgs(plan: dict[str, Any], current: CurrentData) -> set[str]:
    """Whose seats the share limit counts: the plan's org filter, else every org of the data."""
    org = (plan.get("filters") or {}).get("org")
    return {org} if org in current.seats_held else set(current.seats_held)


def apply_plan(
    settings: Settings,
    plan_path: Path,
    *,
    max_actions: int,
    trigger: str,
    say: Say,
    client_options: Mapping[str, Any] | None = None,
    should_stop: Callable[[], bool] = never,
) -> Outcome:
    """Apply up to ``max_actions`` actions of the plan (module docstring). The caller holds the lock."""
    plan = load_plan(plan_path)
    requested = {action["action_key"]: action for action in plan["actions"]}
    org_ids = {action["org_id"] for action in plan["actions"]}
    with Journal.open(settings.warehouse_path) as journal:
        resumed = _to_resume(journal, plan["hash"])
        refuse_interrupted(journal, but=resumed.run_id if resumed else None)
        current = CurrentData.load(settings.published_path)
        with open_apis(settings, org_ids, client_options) as apis:
            api_now = max((api.server_now() for api in apis.values()), default=datetime.now(UTC))
            too_old = age_refusal(plan, api_now, current.data_as_of(org_ids))
            if resumed is not None:
                run_id, cap = resumed.run_id, resumed.max_actions or 0
                journal.reopen_run(run_id)
                say(
                    f"Resuming apply run {run_id[:8]}, which stopped before it finished (cap {cap})."
                    + (
                        f" {too_old} It finishes what it had started and takes no new action."
                        if too_old
                        else ""
                    )
                )
            else:
                if too_old:
                    raise PlanError(too_old)
                cap = current.cap(_cap_orgs(plan, current), max_actions)
                run_id = uuid.uuid4().hex
                journal.start_run(
                    run_id,
                    "apply",
                    trigger,
                    plan_hash=plan["hash"],
                    plan_path=str(plan_path),
                    max_actions=cap,
                )
            aliases = product_aliases()
            groups = GroupReader(apis, aliases)
            checks = _Checks(current, apis, groups, aliases)
            run = ActionLoop(
                journal,
                run_id,
                "apply",
                apis,
                Writer(journal, groups, say, undo=False),
                say,
                should_stop,
                f"`seatwatch reclaim apply --plan {plan_path} --yes` goes on, "
                f"`seatwatch reclaim undo --apply-run {run_id[:8]}` restores what it did",
            )
            with recorded_run(journal, run_id):
                while True:
                    for key, entries, started in pending_actions(journal, run_id):
                        run.check_stop()
                        run.process(entries, _bound(checks, requested[key], started))
                    if too_old or _counted(journal, run_id) >= cap:
                        break
                    done = journal.known_action_keys(plan["hash"])
                    following = next((a for a in plan["actions"] if a["action_key"] not in done), None)
                    if following is None:
                        break
                    chosen = (
                        following if current.refusal(following) else current.actions[following["action_key"]]
                    )
                    journal.add_planned(_planned_rows(plan["hash"], run_id, chosen, journal.next_seq(run_id)))
        return outcome_of(journal, run_id, "apply", resumed=resumed is not None, cap=cap)


def _bound(checks: _Checks, action: dict[str, Any], started: bool) -> Callable[[list[Entry]], str | None]:
    return lambda pending: checks.reason(action, pending, started)


# ---- abandon ---------------------------------------------------------------------------------------------


def abandon_run(
    settings: Settings, given: str, *, say: Say, client_options: Mapping[str, Any] | None = None
) -> Outcome:
    """Close an interrupted (or stopped) apply or undo run for good. The caller holds the lock.

    Its writes left ``intent`` are settled by a read first (so what it did stays known, and undo restores
    it); the writes it never made are ``skipped``; the run is recorded ``abandoned``.
    """
    with Journal.open(settings.warehouse_path) as journal:
        run = find_run(journal, given)
        if run.status not in (RUNNING, STOPPED):
            raise ReclaimRefused(
                f"{run.kind.capitalize()} run {run.run_id[:8]} is {run.status}: nothing to abandon."
            )
        intents = journal.entries(run.run_id, [INTENT])
        if intents:
            with open_apis(settings, {entry.org_id for entry in intents}, client_options) as apis:
                for entry in intents:
                    done = resolve_intent(journal, apis[entry.org_id], entry, say, unknown_state=SKIPPED)
                    if done and entry.undoes_action_id:
                        journal.mark_undone(entry.undoes_action_id, run.run_id)
        for entry in journal.entries(run.run_id, [PLANNED]):
            journal.settle(entry.action_id, SKIPPED, reason="abandoned (`seatwatch reclaim apply --abandon`)")
        journal.finish_run(run.run_id, ABANDONED)
        rows = journal.rows(run.run_id)
        return Outcome(run.run_id, run.kind, counts=journal.counts(run.run_id), rows=rows)


# ---- dry run ---------------------------------------------------------------------------------------------


def _today(
    settings: Settings, org_ids: set[str], client_options: Mapping[str, Any] | None
) -> tuple[datetime, str]:
    """The API's date (what apply goes by), or this machine's when no org is configured to ask."""
    if settings.is_demo or settings.is_embedded_demo or not org_ids:
        return datetime.now(UTC), "this machine's date"
    with open_apis(settings, org_ids, client_options) as apis:
        return max(api.server_now() for api in apis.values()), "the API's date"


def dry_run(
    settings: Settings, plan_path: Path, max_actions: int, *, client_options: Mapping[str, Any] | None = None
) -> Outcome:
    """What ``apply --yes`` would do now: the plan checked against the journal, its age and the current data
    (the fresh read of each user is left to the real run)."""
    plan = load_plan(plan_path)
    org_ids = {action["org_id"] for action in plan["actions"]}
    current = CurrentData.load(settings.published_path)
    now, clock = _today(settings, org_ids, client_options)
    states: dict[str, str] = {}
    runs: list[RunRecord] = []
    notes: list[str] = []
    journal = Journal.peek(settings.warehouse_path)
    if journal is None and settings.warehouse_path.exists():
        notes.append("The journal is busy (another process holds the warehouse): done actions are not shown.")
    if journal is not None:
        with journal:
            states, runs = journal.action_states(plan["hash"]), journal.plan_runs(plan["hash"])
    resumable = next((r for r in reversed(runs) if r.status in (RUNNING, STOPPED)), None)
    too_old = age_refusal(plan, now, current.data_as_of(org_ids), clock)
    if runs and len(states) == len(plan["actions"]):
        notes.append(
            f"Every action of this plan was handled already (last by apply run {runs[-1].run_id[:8]}, "
            f"{runs[-1].status}): nothing is left to do."
        )
    if too_old:
        notes.append(f"{too_old} With --yes, a new run of this plan is refused.")
    if resumable is not None:
        finishing = " and finishes only what it had started" if too_old else ""
        notes.append(
            f"Apply run {resumable.run_id[:8]} of this plan did not finish: --yes resumes it (cap "
            f"{resumable.max_actions}){finishing}."
        )
    if resumable is not None:
        cap = resumable.max_actions or 0
    else:
        cap = current.cap(_cap_orgs(plan, current), max_actions)
    rows, acting = [], 0
    for requested in plan["actions"]:
        key = requested["action_key"]
        refusal = current.refusal(requested)
        if key in states:
            state, reason = "done", states[key]
        elif too_old or (refusal is None and acting >= cap):
            continue
        else:
            state, reason = ("would skip", refusal) if refusal else ("would do", None)
            acting += refusal is None
        action = requested if refusal else current.actions[key]
        for write in action["writes"]:
            rows.append(
                {
                    "action": write.get("write"),
                    "account_id": action["account_id"],
                    "group_name": write.get("group_name"),
                    "product_key": action["seats"][0].get("product_key"),
                    "state": state,
                    "reason": reason,
                }
            )
    return Outcome(None, "apply", dry_run=True, cap=cap, rows=rows, notes=notes)
