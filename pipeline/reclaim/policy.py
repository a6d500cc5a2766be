"""The reclaim policy: what each successful daily run does with the cleanup-ready seats (issue: the policy
loop). Off by default; ``report`` sends the admin digest only, ``notify`` also notices to seat holders,
``enforce`` also removes what is still cleanup-ready once the notice period has passed.

One pass, after the published copy is written (the Dagster asset ``reclaim_policy``, so ``seatwatch run``,
the schedule and a UI launch alike):

1. the plan of ``seatwatch reclaim plan`` (:func:`pipeline.reclaim.plan.build_plan`): its actions are the
   only seats that get a notice, so every refusal of ``reclaim apply`` is a refusal here too;
2. open notices whose action left the plan (used again, exempted, lost the seat) are cancelled;
3. every action without an open notice gets one: journaled ``planned``, then one message per person (the
   outbox rule, :mod:`pipeline.reclaim.notices`), marked ``sent`` with the API's clock once accepted; the
   removal date counts from then;
4. in ``enforce``, notices whose removal date has come (the API's date) are applied through
   :func:`pipeline.reclaim.apply.apply_plan` (the same fresh re-check, caps, journal and undo), at most the
   cap per run and per day; what the fresh re-check skips is cancelled;
5. the admin digest.

A channel that is down leaves its notices ``planned`` (retried next run; their removal date moves out) and
never fails the data run. The file ``<data folder>/policy-off`` stops a run in progress before its next
write (the kill switch for a daemon whose environment cannot change); ``SEATWATCH_RECLAIM_POLICY=off`` stops
the next run.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.config.errors import SeatwatchError
from pipeline.config.policy import ENFORCE, OFF, REPORT
from pipeline.config.settings import Settings
from pipeline.notify.channels import Channels, channels_for
from pipeline.notify.errors import ChannelDown
from pipeline.notify.message import Mail, message_id
from pipeline.reclaim.journal import action_id
from pipeline.reclaim.notices import (
    APPLIED,
    CANCELLED,
    DUE,
    FAILED,
    PLANNED,
    SENT,
    Notice,
    Notices,
)
from pipeline.reclaim.plan import DEFAULT_MAX_ACTIONS, Filters, build_plan, content_hash
from pipeline.reclaim.policy_messages import digest_text, notice_body, notice_subject
from pipeline.warehouse import connect

Say = Callable[[str], None]
KILL_SWITCH = "policy-off"
# Removals per run and per day (the API's date): `reclaim apply`'s default cap; the plan's share limit
# (MAX_SHARE_OF_SEATS) bounds each run too.
MAX_REMOVALS_PER_DAY = DEFAULT_MAX_ACTIONS


class PolicyStopped(SeatwatchError):
    """The kill switch was set while the run was going: nothing more is written."""


@dataclass
class Decision:
    """What one pass would do, before any write (``seatwatch reclaim policy`` prints it)."""

    new: list[dict[str, Any]] = field(default_factory=list)  # plan actions to notice
    cancel: list[tuple[Notice, str]] = field(default_factory=list)
    due: list[Notice] = field(default_factory=list)  # in enforce: to apply, in order
    waiting: list[Notice] = field(default_factory=list)  # sent, removal date not yet come
    unsent: list[Notice] = field(default_factory=list)  # planned: (re)sent by this pass
    cap: int = 0


@dataclass
class PolicyOutcome:
    mode: str
    api_now: datetime | None = None
    noticed: list[Notice] = field(default_factory=list)
    cancelled: list[Notice] = field(default_factory=list)
    removed: list[Notice] = field(default_factory=list)
    held: list[Notice] = field(default_factory=list)
    failed: list[Notice] = field(default_factory=list)
    undo_runs: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    would_notice: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "noticed": len(self.noticed),
            "cancelled": len(self.cancelled),
            "removed": len(self.removed),
            "held": len(self.held),
            "failed": len(self.failed),
        }


def switched_off(data_dir: Path) -> bool:
    return (data_dir / KILL_SWITCH).exists()


def _seats_json(action: Mapping[str, Any]) -> str:
    seats = [
        {"product_key": s["product_key"], "site_id": s["site_id"], "last_active_date": s["last_active_date"]}
        for s in action["seats"]
    ]
    return json.dumps(seats, sort_keys=True)


_SEAT_STATE_SQL = """
select org_id, account_id, product_key, site_id, reclaim_reason, last_active_date::varchar
from marts.fct_user_product_access where has_access
"""


def _seat_states(published: Path) -> dict[tuple, tuple[str | None, str | None]]:
    with connect(published, read_only=True) as con:
        return {tuple(row[:4]): (row[4], row[5]) for row in con.execute(_SEAT_STATE_SQL).fetchall()}


def _cancel_reason(notice: Notice, plan: dict[str, Any], seats: Mapping[tuple, tuple]) -> str:
    refusals = {
        (n["org_id"], n["account_id"], n["product_key"], n["site_id"]): n["reason"] for n in plan["no_action"]
    }
    for seat in notice.seat_list:
        key = (notice.org_id, notice.account_id, seat["product_key"], seat["site_id"])
        if key in refusals:
            return f"no longer acted on: {refusals[key]}"
        if key not in seats:
            return "the seat is gone (removed some other way)"
        reason, last_active = seats[key]
        if reason is None:
            return f"kept: used again (last active {last_active})" if last_active else "kept: no longer idle"
    return "no longer cleanup-ready"


def decide(
    plan: dict[str, Any],
    open_notices: list[Notice],
    seats: Mapping[tuple, tuple],
    today: date,
    mode: str,
    applied_today: int,
) -> Decision:
    """What a pass does with ``plan`` and the journal's open notices on the API's date ``today``."""
    actions = {action["action_key"]: action for action in plan["actions"]}
    decision = Decision(cap=max(0, min(DEFAULT_MAX_ACTIONS, MAX_REMOVALS_PER_DAY - applied_today)))
    noticed = set()
    for notice in open_notices:
        if notice.action_key not in actions:
            decision.cancel.append((notice, _cancel_reason(notice, plan, seats)))
            continue
        noticed.add(notice.action_key)
        if notice.state == PLANNED:
            decision.unsent.append(notice)
        elif mode == ENFORCE and (
            notice.state == DUE or (notice.removal_date and notice.removal_date <= today)
        ):
            decision.due.append(notice)
        else:
            decision.waiting.append(notice)
    decision.new = [action for key, action in actions.items() if key not in noticed]
    # The plan's order (inactive first, longest idle first) decides who a cap holds back.
    order = {key: index for index, key in enumerate(actions)}
    decision.due.sort(key=lambda notice: order[notice.action_key])
    return decision


def _api_clock(settings: Settings, client_options: Mapping[str, Any] | None) -> datetime:
    """The API's clock (its Date header): the notice period and removal dates are counted on it."""
    from pipeline.atlassian import SyncAdminApi

    org = settings.orgs[0]
    options = {"max_rate_limited_wait": settings.rate_limit_max_wait_seconds, **(client_options or {})}
    with SyncAdminApi(settings.api_base_url, org.api_key, **options) as api:
        api.get_org(org.org_id)
        return api.server_now().astimezone(UTC)


def _new_rows(decision: Decision, run_id: str, now: datetime, sender: str | None) -> list[dict]:
    # One message per person per run for the seats this run notices. A message an earlier run left unsent
    # is resent as it was: it may have reached the server (a kill between its 250 and the journal), and a
    # receiver drops a Message-ID it has seen, so seats noticed since never join it.
    rows = []
    for action in decision.new:
        person = (action["org_id"], action["account_id"])
        mid = message_id("notice", *person, run_id, sender=sender)
        rows.append(
            {
                "notice_id": action_id("notice", run_id, action["action_key"]),
                "org_id": action["org_id"],
                "account_id": action["account_id"],
                "email": action["email"],
                "display_name": action["display_name"],
                "action_key": action["action_key"],
                "seats": _seats_json(action),
                "reclaim_reason": action["reclaim_reason"],
                "message_id": mid,
                "policy_run_id": run_id,
                "planned_at": now,
            }
        )
    return rows


def _mails(unsent: list[Notice], removal: date, settings: Settings) -> list[Mail]:
    by_message: dict[str, list[Notice]] = defaultdict(list)
    for notice in unsent:
        by_message[notice.message_id].append(notice)
    policy = settings.policy
    return [
        Mail(
            to=(group[0].email or f"{group[0].account_id}@invalid",),
            subject=notice_subject(removal),
            body=notice_body(group[0].display_name, group, removal, policy.reply_to),
            message_id=mid,
            sender=policy.notice_from,
            reply_to=policy.reply_to,
        )
        for mid, group in by_message.items()
    ]


def _sub_plan(plan: dict[str, Any], due: list[Notice], folder: Path, run_id: str) -> Path:
    """The plan file of this pass's removals: the day's plan with only the due actions (same counts, so the
    share limit is the whole plan's)."""
    keys = {notice.action_key for notice in due}
    sub = {key: value for key, value in plan.items() if key != "hash"}
    sub["actions"] = [action for action in plan["actions"] if action["action_key"] in keys]
    sub["filters"] = {**plan["filters"], "policy_run": run_id}
    sub["hash"] = content_hash(sub)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"policy-{run_id}.json"
    path.write_text(json.dumps(sub, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def _settle(
    notices: Notices,
    due: list[Notice],
    apply_run: str | None,
    now: datetime,
    outcome: PolicyOutcome,
    *,
    final: bool,
) -> None:
    """Each due notice's state from the journal of ``apply_run`` (``final``: not acted on = held back)."""
    results = notices.apply_results(apply_run) if apply_run else {}
    for notice in due:
        states, reason = results.get(notice.action_key, (set(), None))
        if not states or states <= {"planned", "intent"}:
            if final:
                outcome.held.append(notice)  # the cap, or a run that stopped first: due again next run
        elif "failed" in states:
            notices.settle(
                notice.notice_id, FAILED, reason=reason or "the write failed", at=now, apply_run_id=apply_run
            )
            outcome.failed.append(notice)
        elif "applied" in states:
            notices.settle(notice.notice_id, APPLIED, reason=None, at=now, apply_run_id=apply_run)
            outcome.removed.append(notice)
        else:  # skipped after the fresh re-check: the holder came back (or was exempted) since the data
            notices.settle(
                notice.notice_id, CANCELLED, reason=f"re-check: {reason}", at=now, apply_run_id=apply_run
            )
            outcome.cancelled.append(notice)
    if apply_run and any(n.notice_id in {d.notice_id for d in due} for n in outcome.removed):
        outcome.undo_runs.append(apply_run)


def _apply_due(
    settings: Settings,
    notices: Notices,
    plan: dict[str, Any],
    decision: Decision,
    run_id: str,
    now: datetime,
    outcome: PolicyOutcome,
    say: Say,
    client_options: Mapping[str, Any] | None,
) -> None:
    from pipeline.reclaim.apply import apply_plan
    from pipeline.reclaim.calls import check_settings_for_writes

    try:
        check_settings_for_writes(settings)
    except SeatwatchError:
        outcome.held += decision.due
        outcome.problems.append("the embedded demo org refuses writes: due notices are not applied")
        return
    if decision.cap <= 0:
        outcome.held += decision.due
        return
    for notice in decision.due:
        if notice.state != DUE:
            notices.settle(notice.notice_id, DUE, reason="removal date reached", at=now)
    path = _sub_plan(plan, decision.due, settings.data_dir / "policy", run_id)
    sub_hash = json.loads(path.read_text())["hash"]
    if switched_off(settings.data_dir):
        raise PolicyStopped(f"{settings.data_dir / KILL_SWITCH} exists: the policy stopped before removing.")
    error: SeatwatchError | None = None
    try:
        # A policy apply run killed mid-way is resumed first (apply refuses another plan while one is
        # unfinished); what it applied is settled like this pass's own.
        unfinished = notices.unfinished_policy_plan()
        if unfinished is not None and unfinished != str(path):
            apply_plan(settings, Path(unfinished), max_actions=decision.cap, trigger="policy", say=say,
                       client_options=client_options)  # fmt: skip
            resumed_hash = json.loads(Path(unfinished).read_text())["hash"]
            resumed_run = notices.latest_apply_run(resumed_hash)
            if resumed_run:
                _settle(notices, decision.due, resumed_run, now, outcome, final=False)
        apply_plan(
            settings, path, max_actions=decision.cap, trigger="policy", say=say, client_options=client_options
        )
    except SeatwatchError as stopped:
        error = stopped
        outcome.problems.append(f"apply stopped: {stopped}")
    apply_run = notices.latest_apply_run(sub_hash)
    settled = {n.notice_id for n in outcome.removed + outcome.cancelled + outcome.failed}
    _settle(
        notices, [n for n in decision.due if n.notice_id not in settled], apply_run, now, outcome, final=True
    )
    if error is not None:
        say(f"The policy's removals stopped: {error}")


def run_policy(
    settings: Settings,
    *,
    run_id: str,
    say: Say,
    client_options: Mapping[str, Any] | None = None,
    channels: Channels | None = None,
) -> PolicyOutcome:
    """One pass of the policy (module docstring). The caller holds the data folder (the daily run)."""
    policy = settings.policy
    outcome = PolicyOutcome(policy.mode)
    if policy.mode == OFF or switched_off(settings.data_dir):
        return outcome
    channels = channels or channels_for(
        policy, settings.data_dir, demo=settings.is_demo or settings.is_embedded_demo
    )
    now = _api_clock(settings, client_options)
    outcome.api_now = now
    today = now.date()
    plan = build_plan(settings.published_path, Filters(), now=now)
    seats = _seat_states(settings.published_path)
    with Notices.open(settings.warehouse_path) as notices:
        decision = decide(plan, notices.open_notices(), seats, today, policy.mode, notices.applied_on(today))
        if policy.mode == REPORT:
            outcome.would_notice = len(decision.new)
            _digest(channels, outcome, run_id, now)
            return outcome
        notices.start_policy_run(run_id, policy.mode, now)
        status = "failed"
        try:
            for notice, reason in decision.cancel:
                notices.settle(notice.notice_id, CANCELLED, reason=reason, at=now)
                outcome.cancelled.append(notice)
            notices.add_planned(_new_rows(decision, run_id, now, policy.notice_from))
            _send(settings, notices, channels, now, outcome)
            if policy.removes and decision.due:
                _apply_due(settings, notices, plan, decision, run_id, now, outcome, say, client_options)
            status = "partial" if outcome.problems else "success"
        finally:
            notices.finish_policy_run(run_id, status, outcome.counts(), outcome.problems)
    _digest(channels, outcome, run_id, now)
    return outcome


def _send(
    settings: Settings, notices: Notices, channels: Channels, now: datetime, outcome: PolicyOutcome
) -> None:
    unsent = [notice for notice in notices.open_notices() if notice.state == PLANNED]
    if not unsent:
        return
    removal = now.date() + timedelta(days=settings.policy.notice_days)
    mails = _mails(unsent, removal, settings)
    by_message = defaultdict(list)
    for notice in unsent:
        by_message[notice.message_id].append(notice)

    def sent(mail: Mail) -> None:
        notices.mark_sent(mail.message_id, now, removal)
        outcome.noticed += [_as_sent(n, now, removal) for n in by_message[mail.message_id]]
        if switched_off(settings.data_dir):
            raise PolicyStopped(f"{settings.data_dir / KILL_SWITCH} exists: the policy stopped sending.")

    if switched_off(settings.data_dir):
        raise PolicyStopped(f"{settings.data_dir / KILL_SWITCH} exists: the policy stopped before sending.")
    try:
        channels.send_notices(mails, on_sent=sent)
    except ChannelDown as error:
        done = {n.message_id for n in outcome.noticed}
        notices.send_failed([m.message_id for m in mails if m.message_id not in done], str(error))
        outcome.problems.append(f"notices not sent (retried next run): {error}")


def _as_sent(notice: Notice, now: datetime, removal: date) -> Notice:
    from dataclasses import replace

    return replace(notice, state=SENT, sent_at=now, removal_date=removal)


def _digest(channels: Channels, outcome: PolicyOutcome, run_id: str, now: datetime) -> None:
    text = digest_text(
        outcome.mode, outcome.noticed, outcome.cancelled, outcome.removed, outcome.held, outcome.failed,
        outcome.undo_runs, outcome.problems, outcome.would_notice,
    )  # fmt: skip
    subject = f"Seatwatch reclaim policy ({outcome.mode}), {now.date().isoformat()}"
    for failure in channels.send_admin(subject, text, key=f"digest-{run_id}", at=now):
        outcome.problems.append(f"digest not delivered: {failure}")


def _who(notice_or_action: Any) -> str:
    get = notice_or_action.get if isinstance(notice_or_action, dict) else notice_or_action.__getattribute__
    seats = get("seats")
    seats = json.loads(seats) if isinstance(seats, str) else seats
    where = ", ".join(f"{s['product_key']}@{s['site_id']}" for s in seats)
    return f"{get('email') or get('account_id')} ({where})"


def preview(
    settings: Settings, *, client_options: Mapping[str, Any] | None = None
) -> tuple[datetime, list[str]]:
    """What the next run's policy step would do, one line per person; reads only (``reclaim policy``).

    The date is the API's (a read of the org) when an org is configured, else the last extract's.
    """
    if settings.orgs:
        now = _api_clock(settings, client_options)
    else:
        with connect(settings.published_path, read_only=True) as con:
            row = con.execute("select max(extracted_at) from marts.pipeline_runs").fetchone()
        now = row[0].replace(tzinfo=UTC) if row and row[0] else datetime.now(UTC)
    today = now.date()
    plan = build_plan(settings.published_path, Filters(), now=now)
    seats = _seat_states(settings.published_path)
    journal = Notices.read_only(settings.warehouse_path)
    if journal is None:
        open_notices, applied_today = [], 0
    else:
        with journal:
            open_notices, applied_today = journal.open_notices(), journal.applied_on(today)
    mode = settings.policy.mode
    decision = decide(plan, open_notices, seats, today, mode, applied_today)
    removal = today + timedelta(days=settings.policy.notice_days)
    verb = "notice" if settings.policy.sends_notices else "would be noticed (report only)"
    people: dict[tuple, list[Any]] = defaultdict(list)
    for action in decision.new:
        people[(action["org_id"], action["account_id"])].append(action)
    lines = []
    for group in people.values():
        seats_text = "; ".join(_who(action) for action in group)
        lines.append(f"{verb:<10} {seats_text}: removal on {removal} unless used")
    for notice in decision.unsent:
        lines.append(f"resend     {_who(notice)}: its message is not sent yet ({notice.reason or 'retried'})")
    for notice, reason in decision.cancel:
        lines.append(f"cancel     {_who(notice)}: {reason}")
    for index, notice in enumerate(decision.due):
        held = index >= decision.cap or settings.is_demo
        what = "held back by the cap" if index >= decision.cap else "remove after a fresh re-check"
        if settings.is_demo:
            what = "not removed: the demo org refuses writes"
        lines.append(
            f"{'held' if held else 'due':<10} {_who(notice)}: removal date {notice.removal_date}, {what}"
        )
    for notice in decision.waiting:
        lines.append(f"waiting    {_who(notice)}: removal date {notice.removal_date}")
    return now, lines
