"""``seatwatch reclaim apply`` and ``undo``: the plan's writes through the Admin API, journaled.

The one code path of the CLI and the Dagster job. The caller holds the data folder (the CLI through its
run guard, the Dagster op through the lock and the ``duckdb_writer`` pool); this module opens the journal,
the API clients (one per org, paced like every other call) and works through the writes in plan order:

* an apply run journals its writes ``planned`` (at most the cap), then per action: a fresh read of the user
  (:mod:`pipeline.reclaim.fresh`), and per write ``intent`` → the call → ``applied`` / ``skipped`` /
  ``failed``;
* a run killed at any point is resumed by the next apply of the same plan (same run id, same cap): a write
  left in ``intent`` is resolved by reading the membership (or the user's status) — gone means the call got
  through (``applied``), present means it did not (the call is made). So every write happens once;
* the first unexpected error stops the run (exit 1); a key that may read but not write stops it at the
  first write (exit 2), before any write succeeded;
* undo journals the reverse of every ``applied`` write of one apply run the same way; a re-add refused for
  the product's user limit fails that write only, and is reported.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Any

from pipeline.atlassian import errors as api_errors
from pipeline.config.errors import ConfigurationError, SeatwatchError
from pipeline.config.seeds import exempt_accounts, product_aliases
from pipeline.config.settings import Settings
from pipeline.reclaim.fresh import FreshUser, parse_fresh, skip_reason
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
    action_id,
)
from pipeline.reclaim.plan import REMOVE, SUSPEND, check_age, load_plan, max_actions_allowed

ADD, RESTORE = "add_group_member", "restore_user"
UNDO_OF = {REMOVE: ADD, SUSPEND: RESTORE}
Say = Callable[[str], None]


class ReclaimRefused(SeatwatchError):
    """Configuration or usage: nothing (more) was written. Exit 2."""

    exit_code = 2


class ReclaimStopped(SeatwatchError):
    """The run stopped at an unexpected error; the journal says what was done. Exit 1."""


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


# ---- the API -------------------------------------------------------------------------------------------


@contextmanager
def _apis(settings: Settings, org_ids: set[str], client_options: Mapping[str, Any] | None) -> Iterator[dict]:
    from pipeline.atlassian import SyncAdminApi

    check_settings_for_writes(settings)
    configured = {org.org_id: org for org in settings.orgs}
    missing = sorted(org_ids - set(configured))
    if missing:
        raise ReclaimRefused(
            f"The plan acts on org {missing[0]}, which ATLASSIAN_ORG_ID does not list: add it (with its key) "
            "or make the plan with --org for a configured org."
        )
    options = {"max_rate_limited_wait": settings.rate_limit_max_wait_seconds, **(client_options or {})}
    with ExitStack() as stack:
        apis = {}
        for org_id in sorted(org_ids):
            api = stack.enter_context(
                SyncAdminApi(settings.api_base_url, configured[org_id].api_key, **options)
            )
            api.get_org(org_id)  # a wrong key or org id: one line (exit 2) before anything is written
            apis[org_id] = api
        yield apis


def _read_user(api: Any, org_id: str, account_id: str, aliases: dict[str, str]) -> FreshUser:
    pages = api.search_users(
        org_id, expand=["groups", "platformRoles"], filters={"accountIds": [account_id]}, limit=1
    )
    user = next((item for page in pages for item in page.items if item.get("accountId") == account_id), None)
    if user is None:
        return FreshUser(listed=False)
    try:
        last_active = api.get_last_active_dates(org_id, account_id)
    except api_errors.UserNotFoundError:
        return FreshUser(listed=False)
    return parse_fresh(user, last_active, aliases)


def _call(api: Any, entry: Entry) -> Any:
    """The write of one journal entry; returns the API's WriteReceipt."""
    if entry.action == REMOVE:
        return api.remove_group_member(entry.org_id, entry.directory_id, entry.group_id, entry.account_id)
    if entry.action == ADD:
        return api.add_group_member(entry.org_id, entry.directory_id, entry.group_id, entry.account_id)
    if entry.action == SUSPEND:
        return api.suspend_user(entry.org_id, entry.directory_id, entry.account_id)
    if entry.action == RESTORE:
        return api.restore_user(entry.org_id, entry.directory_id, entry.account_id)
    raise ValueError(f"unknown journal action {entry.action}")


def _already_done(entry: Entry, fresh: FreshUser) -> bool:
    """For a write left in ``intent`` by a killed run: does the API show its effect already?"""
    if entry.action == REMOVE:
        return entry.group_id not in fresh.group_ids
    if entry.action == ADD:
        return entry.group_id in fresh.group_ids
    if entry.action == SUSPEND:
        return fresh.membership_status == "suspended"
    return fresh.listed and fresh.membership_status == "active"  # RESTORE


def _who(entry: Entry) -> str:
    target = f" {entry.group_name or entry.group_id}" if entry.group_id else ""
    return f"{entry.action}{target} for {entry.account_id}"


# ---- one write -----------------------------------------------------------------------------------------


def _write(journal: Journal, api: Any, entry: Entry, say: Say, *, undo: bool) -> str:
    """Journal intent, call, journal the result; returns the state. Raises to stop the run."""
    journal.mark_intent(entry.action_id)
    try:
        receipt = _call(api, entry)
    except api_errors.WriteForbidden:
        # Nothing changed: the write goes back to planned, and the next run with a key that may write
        # resumes here.
        journal.settle(
            entry.action_id, PLANNED, reason="refused: the API key may read but not write (HTTP 403)"
        )
        raise ReclaimRefused(
            f"The Atlassian API refused to write with this API key ({_who(entry)} → HTTP 403): it may read "
            "but not change users. Set ATLASSIAN_API_KEY to an org admin's key without scopes and read-write "
            "access, then run again; the journal keeps the plan's place."
        ) from None
    except api_errors.MembershipNotFound:
        # A 404 also answers a wrong directory id: only a read tells "already gone" from "never found".
        if not _already_done(entry, _read_user(api, entry.org_id, entry.account_id, {})):
            journal.settle(entry.action_id, FAILED, reason="HTTP 404 but the user is still in the group")
            raise ReclaimStopped(
                f"The API answered 404 to {_who(entry)} but the user is still in the group (a wrong "
                "directory id?); stopped. Run `seatwatch run` and make a new plan."
            ) from None
        journal.settle(entry.action_id, SKIPPED, reason="the membership was already gone")
        return SKIPPED
    except api_errors.UserLimitReached as error:
        if not undo:
            raise
        reason = f"the product's user limit is reached: free a seat, then add the user back by hand ({error})"
        journal.settle(entry.action_id, FAILED, reason=reason[:300])
        return FAILED
    except api_errors.RetriesExhaustedError as error:
        # No answer: nobody knows whether the write happened. The entry stays `intent`, and the next run
        # of the same command reads the user to find out.
        raise ReclaimStopped(
            f"Stopped: {error} Whether {_who(entry)} happened is unknown; run the same command again and it "
            "reads the user to find out before going on."
        ) from None
    except api_errors.AtlassianApiError as error:
        journal.settle(entry.action_id, FAILED, reason=str(error)[:300])
        raise ReclaimStopped(
            f"Stopped at the first unexpected error: {error} The journal (marts.reclaim_actions after the "
            "next run) shows what was done; run the same command again to go on."
        ) from None
    journal.settle(entry.action_id, APPLIED, request_id=receipt.request_id, done_at=receipt.at)
    return APPLIED


def _resolve_intent(journal: Journal, api: Any, entry: Entry, aliases: dict[str, str], say: Say) -> bool:
    """A write a killed run left in ``intent``: True when the API shows it done (journaled applied)."""
    fresh = _read_user(api, entry.org_id, entry.account_id, aliases)
    if _already_done(entry, fresh):
        journal.settle(entry.action_id, APPLIED, reason="resumed: the interrupted call had reached the API")
        say(f"  resumed  {_who(entry)}: the interrupted call had gone through")
        return True
    return False


def _process(
    journal: Journal,
    run_id: str,
    api: Any,
    entries: list[Entry],
    action: dict[str, Any] | None,
    say: Say,
    *,
    started: bool,
    undo: bool,
) -> None:
    """One action's writes (one journal entry each), after the fresh read unless already started."""
    aliases, exempt = product_aliases(), exempt_accounts()
    if action is not None and not started:
        fresh = _read_user(api, entries[0].org_id, entries[0].account_id, aliases)
        reason = skip_reason(action, fresh, exempt)
        if reason:
            for entry in entries:
                journal.settle(entry.action_id, SKIPPED, reason=reason)
            return
    for entry in entries:
        if entry.state == INTENT and _resolve_intent(journal, api, entry, aliases, say):
            state = APPLIED
        else:
            state = _write(journal, api, entry, say, undo=undo)
        if undo and state == APPLIED and entry.undoes_action_id:
            journal.mark_undone(entry.undoes_action_id, run_id)


def _pending(journal: Journal, run_id: str) -> list[tuple[str, list[Entry], bool]]:
    """The run's unfinished actions in order: (action key, entries not done, whether any write was tried)."""
    tried = {entry.action_key for entry in journal.entries(run_id) if entry.state != PLANNED}
    pending = journal.entries(run_id, [PLANNED, INTENT])
    return [(key, list(group), key in tried) for key, group in groupby(pending, key=lambda e: e.action_key)]


# ---- apply ---------------------------------------------------------------------------------------------


def _planned_rows(
    plan: dict[str, Any], run_id: str, actions: list[dict[str, Any]], seq: int
) -> list[dict[str, Any]]:
    rows = []
    for action in actions:
        seat = action["seats"][0]
        for write in action["writes"]:
            seq += 1
            rows.append(
                {
                    "action_id": action_id(
                        plan["hash"], action["action_key"], write["write"], write["group_id"] or ""
                    ),
                    "plan_hash": plan["hash"],
                    "apply_run_id": run_id,
                    "seq": seq,
                    "action_key": action["action_key"],
                    "action": write["write"],
                    "org_id": action["org_id"],
                    "directory_id": write["directory_id"],
                    "group_id": write["group_id"],
                    "group_name": write["group_name"],
                    "account_id": action["account_id"],
                    "product_key": seat["product_key"],
                    "site_id": seat["site_id"],
                    "reclaim_reason": action["reclaim_reason"],
                    "monthly_seat_price": action["monthly_cost"],
                }
            )
    return rows


def _refuse_other_unfinished(journal: Journal, plan_hash: str | None, undoes: str | None) -> Any:
    """The unfinished run to resume (same plan, or undo of the same run), or a refusal naming the other."""
    for run in journal.unfinished_runs():
        if run.kind == "apply" and run.plan_hash == plan_hash:
            return run
        if run.kind == "undo" and undoes is not None and run.undoes_run_id == undoes:
            return run
        if run.status == STOPPED:
            continue  # stopped at an error by a run that ended cleanly: its remaining writes stay planned
        if run.kind == "apply":
            raise ReclaimRefused(
                f"Apply run {run.run_id[:8]} of the plan {run.plan_path} was interrupted: finish it first "
                f"with `seatwatch reclaim apply --plan {run.plan_path} --yes` (it resumes where it stopped)."
            )
        raise ReclaimRefused(
            f"Undo run {run.run_id[:8]} was interrupted: finish it first with "
            f"`seatwatch reclaim undo --apply-run {run.undoes_run_id}`."
        )
    return None


def dry_run(plan_path: Path, max_actions: int) -> Outcome:
    plan = load_plan(plan_path)
    cap = max_actions_allowed(plan, max_actions)
    rows = [
        {
            "action": write["write"],
            "account_id": action["account_id"],
            "email": action["email"],
            "group_name": write["group_name"],
            "product_key": action["seats"][0]["product_key"],
            "site_id": action["seats"][0]["site_id"],
            "state": "would do",
        }
        for action in plan["actions"][:cap]
        for write in action["writes"]
    ]
    return Outcome(None, "apply", dry_run=True, cap=cap, rows=rows)


def _planned_count(journal: Journal, run_id: str) -> int:
    """Actions of the run that count against its cap: all but those skipped after the fresh read."""
    return len({entry.action_key for entry in journal.entries(run_id) if entry.state != SKIPPED})


def apply_plan(
    settings: Settings,
    plan_path: Path,
    *,
    max_actions: int,
    trigger: str,
    say: Say,
    client_options: Mapping[str, Any] | None = None,
) -> Outcome:
    """Apply up to ``max_actions`` actions of the plan (module docstring). The caller holds the lock.

    Actions are journaled one at a time, in plan order: an action skipped after its fresh read does not
    count against the cap, so ``--max 25`` acts on 25 seats when the plan has them.
    """
    plan = load_plan(plan_path)
    actions = {action["action_key"]: action for action in plan["actions"]}
    with Journal.open(settings.warehouse_path) as journal:
        resumed = _refuse_other_unfinished(journal, plan["hash"], None)
        with _apis(settings, {a["org_id"] for a in plan["actions"]}, client_options) as apis:
            for api in apis.values():
                check_age(plan, api.server_now())
            if resumed is not None:
                run_id, cap = resumed.run_id, resumed.max_actions or 0
                journal.reopen_run(run_id)
                say(f"Resuming apply run {run_id[:8]}, which stopped before it finished (cap {cap}).")
            else:
                cap = max_actions_allowed(plan, max_actions)
                run_id = uuid.uuid4().hex
                journal.start_run(
                    run_id,
                    "apply",
                    trigger,
                    plan_hash=plan["hash"],
                    plan_path=str(plan_path),
                    max_actions=cap,
                )
            try:
                while True:
                    for key, entries, tried in _pending(journal, run_id):
                        _process(journal, run_id, apis[entries[0].org_id], entries, actions[key], say,
                                 started=tried, undo=False)  # fmt: skip
                    if _planned_count(journal, run_id) >= cap:
                        break
                    done = journal.known_action_keys(plan["hash"])
                    following = next((a for a in plan["actions"] if a["action_key"] not in done), None)
                    if following is None:
                        break
                    journal.add_planned(_planned_rows(plan, run_id, [following], journal.next_seq(run_id)))
            except BaseException as error:
                if isinstance(error, SeatwatchError):
                    journal.finish_run(run_id, STOPPED)
                raise
            journal.finish_run(run_id, FINISHED)
        return Outcome(run_id, "apply", resumed=resumed is not None, cap=cap, counts=journal.counts(run_id),
                       rows=journal.rows(run_id))  # fmt: skip


# ---- undo ----------------------------------------------------------------------------------------------


def _find_apply_run(journal: Journal, given: str) -> Any:
    run = journal.run(given)
    if run is None and len(given) >= 6:
        matches = [r for r in journal.all_runs() if r.run_id.startswith(given)]
        run = matches[0] if len(matches) == 1 else None
    if run is None or run.kind != "apply":
        raise ReclaimRefused(
            f"No apply run {given} in the journal: give the run id `seatwatch reclaim apply` printed (or a "
            "unique prefix of it)."
        )
    if run.status == RUNNING:
        raise ReclaimRefused(
            f"Apply run {run.run_id[:8]} was interrupted: finish it with `seatwatch reclaim apply --plan "
            f"{run.plan_path} --yes` first, then undo it."
        )
    return run


def undo_apply(
    settings: Settings,
    apply_run_id: str,
    *,
    trigger: str,
    say: Say,
    client_options: Mapping[str, Any] | None = None,
) -> Outcome:
    """Restore what one apply run changed (see the module docstring). The caller holds the lock."""
    with Journal.open(settings.warehouse_path) as journal:
        target = _find_apply_run(journal, apply_run_id)
        resumed = _refuse_other_unfinished(journal, None, target.run_id)
        applied = journal.entries(target.run_id, [APPLIED])
        if resumed is not None:
            run_id = resumed.run_id
            journal.reopen_run(run_id)
            say(f"Resuming undo run {run_id[:8]}, which stopped before it finished.")
        else:
            if not applied:
                raise ReclaimRefused(f"Apply run {target.run_id[:8]} has nothing applied left to undo.")
            run_id = uuid.uuid4().hex
        orgs = {entry.org_id for entry in applied} or {e.org_id for e in journal.entries(run_id)}
        with _apis(settings, orgs, client_options) as apis:
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
            try:
                for _, entries, _ in _pending(journal, run_id):
                    _process(
                        journal, run_id, apis[entries[0].org_id], entries, None, say, started=True, undo=True
                    )
            except BaseException as error:
                if isinstance(error, SeatwatchError):
                    journal.finish_run(run_id, STOPPED)
                raise
            journal.finish_run(run_id, FINISHED)
        rows = journal.rows(run_id)
        failures = [
            f"{row['action']} {row['group_name'] or ''} for {row['account_id']}: {row['reason']}"
            for row in rows
            if row["state"] == FAILED
        ]
        return Outcome(run_id, "undo", resumed=resumed is not None, counts=journal.counts(run_id), rows=rows,
                       failures=failures)  # fmt: skip


def check_settings_for_writes(settings: Settings) -> None:
    """Refuse the demo org before any lock or journal is touched (same rule as :func:`_apis`)."""
    if settings.is_demo or settings.is_embedded_demo:
        raise ConfigurationError(
            "The embedded demo org is rebuilt for every command, so nothing applied to it would last: start "
            "`seatwatch simulator` in another shell and export the three lines it prints (or set "
            "ATLASSIAN_ORG_ID and ATLASSIAN_API_KEY for a real org)."
        )
