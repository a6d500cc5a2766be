"""The reclaim policy's acceptance scenario: daily runs in enforce mode against the simulator, with a real
SMTP server and a webhook receiver on loopback (both started here).

Each simulated day: the activity scheduled for that day (``POST /_simulator/activity``), one
``seatwatch run`` (a real process; its policy step notices, cancels and removes), then
``POST /_simulator/advance?days=1``. For a random fifth of the people noticed, the simulator records use of
every noticed seat during the notice period. Three days of SMTP outage (days 0-2 by default: the first day
notices every seat already idle, later days few), then three ``kill -9`` of a run while it sends (after
the 1st, 3rd and 5th message the server accepted in that run; the day is run again).

Measured (exit 1 when a check fails), removals joined to their notices through the reclaim journal:

* every removal was preceded by exactly one notice of that seat, whose message the server received, sent
  at least the notice period earlier by the API's clock;
* 0 removals of a person active after their notice, and every such notice cancelled;
* the server received exactly the messages the journal says were sent (by Message-ID): 0 lost, 0 unknown;
  a Message-ID received twice only where a kill fell between the server's 250 and the journal's write
  (the last message the killed run got accepted), at most once each;
* nothing sent during the outage; each notice it held back sent once the server was back, its removal date
  its sending date + the notice period (moved out), and not removed before it;
* the caps held every day (at most 25 seats removed a day);
* ``seatwatch reclaim undo`` of a policy removal run puts back every write of that run (a seat the org's
  admins restored in between is already back: the API answers the undo's write and nothing changes).

    uv run python -m benchmarks.bench_policy                          # 2,000 users, 60 days
    uv run python -m benchmarks.bench_policy --users 300 --days 20    # quicker
    uv run python -m benchmarks.bench_policy --facts F.pickle         # keep what the checks read...
    uv run python -m benchmarks.bench_policy --check F.pickle         # ...and check it again
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx

from pipeline.reclaim.policy import MAX_REMOVALS_PER_DAY
from pipeline.simulator.model import SimulatorConfig
from pipeline.simulator.server import start_in_thread
from pipeline.simulator.world import World
from tests.support.mail_servers import smtp_server, webhook_receiver
from tests.support.processes import seatwatch_env

NOTICE_DAYS = 14
KILL_AFTER = (1, 3, 5)  # messages accepted in the killed run (small orgs send few a day)
REMOVALS = ("remove_group_member", "suspend_user")
RESTORES = {"remove_group_member": "add_group_member", "suspend_user": "restore_user"}


class Checks:
    def __init__(self) -> None:
        self.failures: list[str] = []

    def __call__(self, ok: bool, what: str) -> None:
        print(f"  {'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            self.failures.append(what)


def _run(env: dict[str, str], kill_after: int | None, inbox: Any) -> tuple[int, list[str]]:
    """One `seatwatch run`; with ``kill_after``, SIGKILL once the server accepted that many more messages.

    Returns the exit code and the Message-IDs the server accepted during the run, in order.
    """
    start = len(inbox.messages)
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "run", "--quiet"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if kill_after is not None:

        def maybe_kill(count: int) -> None:
            if count - start == kill_after:
                # just after the 250 went back: the process may or may not have journaled it
                threading.Timer(0.02, lambda: os.kill(process.pid, signal.SIGKILL)).start()

        inbox.after_accept = maybe_kill
    _, err = process.communicate()
    inbox.after_accept = None
    if process.returncode not in (0, -signal.SIGKILL):
        print(f"    run exit {process.returncode}: {err.strip()[-300:]}")
    return process.returncode, inbox.message_ids()[start:]


def _rows(warehouse: Path, sql: str) -> list[dict[str, Any]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute(sql)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _notices(warehouse: Path) -> list[dict[str, Any]]:
    return _rows(warehouse, "select * from reclaim.notices")


def _actions(warehouse: Path) -> list[dict[str, Any]]:
    sql = (
        "select apply_run_id, action_key, action, account_id, group_id, state, request_id, done_at "
        "from reclaim.actions"
    )
    try:
        return _rows(warehouse, sql)
    except duckdb.CatalogException:  # no apply yet
        return []


def simulate(args: argparse.Namespace) -> dict[str, Any]:
    """Run the days; return what the checks read (picklable: ``--facts`` keeps it, ``--check`` reads it)."""
    rng = random.Random(args.seed)
    outage = set(range(args.outage_from, args.outage_from + 3))
    world = World(SimulatorConfig(users=args.users, seed=args.seed))
    org_id = next(iter(world.orgs))
    started = time.monotonic()
    facts: dict[str, Any] = {
        "users": args.users, "days": args.days, "seed": args.seed, "notice_days": NOTICE_DAYS,
        "cap": MAX_REMOVALS_PER_DAY, "kill_after": list(KILL_AFTER), "outage_days": sorted(outage),
        "outage_dates": [], "per_day": [], "kills": [], "activity": [], "sent_during_outage": 0,
    }  # fmt: skip
    with (
        tempfile.TemporaryDirectory(prefix="bench-policy-") as tmp,
        start_in_thread(world) as simulator,
        smtp_server() as smtp,
        webhook_receiver() as hook,
    ):
        data = Path(tmp) / "data"
        warehouse = data / "warehouse.duckdb"
        env = seatwatch_env(simulator.base_url, org_id, world.api_key, data)
        env.update(
            SEATWATCH_RECLAIM_POLICY="enforce",
            SEATWATCH_NOTICE_DAYS=str(NOTICE_DAYS),
            SEATWATCH_SMTP_URL=f"smtp://127.0.0.1:{smtp.port}",
            SEATWATCH_NOTICE_FROM="seatwatch@example.com",
            SEATWATCH_NOTICE_REPLY_TO="it-admin@example.com",
            SEATWATCH_ADMIN_WEBHOOK_URL=hook.url,
        )
        headers = {"Authorization": f"Bearer {world.api_key}"}
        # day → (account, seat, the notices of that person open when it was scheduled)
        scheduled: dict[int, list[tuple[str, dict[str, Any], list[str]]]] = defaultdict(list)
        seen_people: set[str] = set()
        kills = list(KILL_AFTER)
        for day in range(args.days):
            for account_id, seat, notice_ids in scheduled.pop(day, []):
                response = httpx.post(
                    f"{simulator.base_url}/_simulator/activity",
                    json={
                        "accountId": account_id,
                        "product": seat["product_key"],
                        "cloudId": seat["site_id"],
                    },
                    headers=headers,
                )
                if response.status_code == 200:
                    at = datetime.fromisoformat(response.json()["at"].replace("Z", "+00:00"))
                    facts["activity"].append(
                        {"account_id": account_id, "at": at, "notice_ids": notice_ids, "day": day}
                    )
            smtp.inbox.down = day in outage
            before_messages = len(smtp.inbox.messages)
            before_writes = len(world.writes.log)
            day_started = time.monotonic()
            code = None
            while kills and day not in outage:
                code, accepted = _run(env, kills[0], smtp.inbox)
                if code != -signal.SIGKILL:
                    break  # fewer messages than the kill point this day: try on a later day
                kill_after = kills.pop(0)
                facts["kills"].append({"day": day, "after": kill_after, "accepted": accepted})
                print(
                    f"  day {day}: killed after message {kill_after} of the run ({len(accepted)} accepted "
                    "before it died); running the day again"
                )
                code = None
            if code is None:
                code, _ = _run(env, None, smtp.inbox)
            today = world.now.date()
            if day in outage:
                facts["outage_dates"].append(today)
                facts["sent_during_outage"] += len(smtp.inbox.messages) - before_messages
            notices = _notices(warehouse)
            # the cap counts actions (seats), not writes: a seat granted by two groups is two writes
            removed_seats = len(
                [
                    n
                    for n in notices
                    if n["state"] == "applied" and n["closed_at"].astimezone(UTC).date() == today
                ]
            )
            writes = [w for w in world.writes.log[before_writes:] if w.changed and w.action in REMOVALS]
            facts["per_day"].append(
                {"day": day, "date": today, "exit": code,
                 "messages": len(smtp.inbox.messages) - before_messages,
                 "removed_seats": removed_seats, "removal_writes": len(writes),
                 "seconds": round(time.monotonic() - day_started, 1)}
            )  # fmt: skip
            # a fifth of the newly noticed people use every noticed seat during their notice period
            fresh: dict[str, list[dict[str, Any]]] = defaultdict(list)
            fresh_ids: dict[str, list[str]] = defaultdict(list)
            for notice in notices:
                if notice["state"] in ("sent", "due") and notice["account_id"] not in seen_people:
                    fresh[notice["account_id"]] += json.loads(notice["seats"])
                    fresh_ids[notice["account_id"]].append(notice["notice_id"])
            for account_id, seats in sorted(fresh.items()):
                seen_people.add(account_id)
                if rng.random() < 0.2:
                    when = day + rng.randint(1, NOTICE_DAYS - 2)
                    scheduled[when] += [(account_id, seat, fresh_ids[account_id]) for seat in seats]
            print(
                f"day {day} ({today:%Y-%m-%d}){' SMTP down' if day in outage else ''}: exit {code}, "
                f"{facts['per_day'][-1]['messages']} message(s), {removed_seats} seat(s) removed "
                f"({len(writes)} write(s)), {facts['per_day'][-1]['seconds']:.1f} s",
                flush=True,
            )
            httpx.post(f"{simulator.base_url}/_simulator/advance", params={"days": 1}, headers=headers)

        facts["seconds"] = round(time.monotonic() - started)
        facts["notices"] = _notices(warehouse)
        facts["actions"] = _actions(warehouse)
        facts["received"] = smtp.inbox.message_ids()
        facts["digest_names_undo"] = any("undo" in body["text"] for body in hook.bodies)
        facts["writes"] = [asdict(w) for w in world.writes.log]
        applied = [n for n in facts["notices"] if n["state"] == "applied"]
        # the undo: the apply run with the most removals (a run of the policy, trigger policy)
        runs = Counter(n["apply_run_id"] for n in applied)
        facts["undo"] = None
        if runs:
            run_id = runs.most_common(1)[0][0]
            before = len(world.writes.log)
            done = subprocess.run(  # noqa: S603
                [sys.executable, "-m", "pipeline.cli", "reclaim", "undo", "--apply-run", run_id],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            facts["undo"] = {
                "run_id": run_id,
                "exit": done.returncode,
                "stderr": done.stderr.strip()[-300:],
                "writes": [asdict(w) for w in world.writes.log[before:]],
            }
    return facts


def evaluate(facts: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """The acceptance checks on what :func:`simulate` recorded: (failures, the measured numbers)."""
    check = Checks()
    notice_days, cap = timedelta(days=facts["notice_days"]), facts["cap"]
    notices, writes = facts["notices"], facts["writes"]
    received = Counter(facts["received"])
    print(f"\n{facts['days']} days, {facts['users']} users in {facts['seconds']} s; checks:")

    failed_days = [d["day"] for d in facts["per_day"] if d["exit"] != 0]
    check(not failed_days, f"every day's run succeeds ({len(facts['per_day'])} days; failed: {failed_days})")

    # the server against the journal, by Message-ID
    journal_sent = {n["message_id"] for n in notices if n["sent_at"] is not None}
    lost, unknown = journal_sent - set(received), set(received) - journal_sent
    check(not lost and not unknown, f"the server received exactly the journal's sent messages "
          f"({len(journal_sent)} ids; lost {len(lost)}, unknown {len(unknown)})")  # fmt: skip
    kills = facts["kills"]
    check(len(kills) == len(facts["kill_after"]), f"all kills happened during sending ({len(kills)})")
    duplicated = {mid: count for mid, count in received.items() if count > 1}
    # A kill can fall between the server's 250 and the journal's write for the last message the killed
    # run got accepted: that message (the same Message-ID) goes once more. Nothing else may repeat.
    last_of_kill = {kill["accepted"][-1] for kill in kills if kill["accepted"]}
    from_kill = [mid for mid in duplicated if mid in last_of_kill]
    check(
        max(duplicated.values(), default=1) <= 2 and len(from_kill) == len(duplicated),
        f"duplicates: {len(duplicated)} Message-ID(s) received twice, each the last message a killed run got "
        f"accepted ({len(from_kill)} of {len(duplicated)}; {len(kills)} kills); 0 otherwise",
    )
    duplicate_extra = sum(count - 1 for count in duplicated.values())

    # the outage
    outage_dates = facts["outage_dates"]
    outage_end = max(outage_dates) + timedelta(days=1) if outage_dates else None
    check(facts["sent_during_outage"] == 0, f"nothing sent during the outage ({facts['sent_during_outage']})")
    last_day = facts["per_day"][-1]["date"] if facts["per_day"] else None
    unsent = [n for n in notices if n["state"] == "planned"]
    check(not unsent or last_day in outage_dates, f"no notice left unsent ({len(unsent)})")
    held = [n for n in notices if n["planned_at"].astimezone(UTC).date() in outage_dates]
    removal_writes = [w for w in writes if w["changed"] and w["action"] in REMOVALS]
    removal_by_account = defaultdict(list)
    for write in removal_writes:
        removal_by_account[write["account_id"]].append(write)
    moved, wrong, early_held, moved_by = 0, [], [], []
    for notice in held:
        if notice["sent_at"] is None:
            if notice["state"] != "cancelled":
                wrong.append(f"{notice['notice_id'][:8]} never sent ({notice['state']})")
            continue
        sent_day = notice["sent_at"].astimezone(UTC).date()
        planned_day = notice["planned_at"].astimezone(UTC).date()
        if sent_day < outage_end or notice["removal_date"] != sent_day + notice_days:
            wrong.append(f"{notice['notice_id'][:8]} sent {sent_day}, removal {notice['removal_date']}")
            continue
        moved += 1
        moved_by.append((notice["removal_date"] - (planned_day + notice_days)).days)
        for write in removal_by_account[notice["account_id"]]:
            if notice["sent_at"] <= write["at"] < notice["sent_at"] + notice_days:
                early_held.append(notice["notice_id"][:8])
    check(bool(held), f"the outage held back notices ({len(held)} planned during it)")
    check(
        not wrong and moved > 0,
        f"each notice the outage held back was sent once the server was back (on or after {outage_end}) and "
        f"its removal date is its sending date + {facts['notice_days']} days, not its planning date's: "
        f"{moved} moved out by {min(moved_by, default=0)}–{max(moved_by, default=0)} days"
        + (f"; wrong: {wrong[:5]}" if wrong else ""),
    )
    check(not early_held, f"none of them removed before its new removal date ({len(early_held)} early)")

    # removals and their notices, joined through the reclaim journal (the write's request id)
    by_request = {a["request_id"]: a for a in facts["actions"] if a["request_id"]}
    notice_of = {(n["apply_run_id"], n["action_key"]): n for n in notices if n["state"] == "applied"}
    by_key = defaultdict(list)
    for notice in notices:
        by_key[notice["action_key"]].append(notice)
    applied = [n for n in notices if n["state"] == "applied"]
    check(bool(removal_writes) and len(removal_writes) >= len(applied),
          f"removals happened ({len(removal_writes)} writes for {len(applied)} seats)")  # fmt: skip
    unjoined, not_one, not_received, early = [], [], [], []
    for write in removal_writes:
        action = by_request.get(write["request_id"])
        notice = action and notice_of.get((action["apply_run_id"], action["action_key"]))
        if not notice:
            unjoined.append(write["account_id"])
            continue
        # the notices of that seat open when it was removed: a notice closed earlier (cancelled, or applied
        # before the simulator's admins restored the seat and it was noticed again) is another round's
        preceding = [
            n
            for n in by_key[notice["action_key"]]
            if n["sent_at"] is not None
            and n["sent_at"] <= write["at"]
            and (n["closed_at"] is None or n["closed_at"] >= write["at"])
        ]
        if len(preceding) != 1:
            not_one.append(write["account_id"])
        if notice["message_id"] not in received:
            not_received.append(write["account_id"])
        if notice["sent_at"] + notice_days > write["at"] or write["at"].date() < notice["removal_date"]:
            early.append(write["account_id"])
    check(not unjoined, f"every removal write is a policy removal of a noticed seat ({len(unjoined)} not)")
    check(not not_one, f"every removal was preceded by exactly one notice of that seat ({len(not_one)} not)")
    check(not not_received, f"every removal's notice was received by the server ({len(not_received)} not)")
    check(not early, f"every removal ≥ {facts['notice_days']} days after its notice was sent, API clock "
          f"({len(early)} early)")  # fmt: skip
    keys = Counter((n["action_key"], n["apply_run_id"]) for n in applied)
    check(max(keys.values(), default=1) == 1, "each removed seat had exactly one notice acted on")
    rounds = Counter(n["action_key"] for n in applied)
    again = sum(1 for count in rounds.values() if count > 1)

    # people active after their notice
    came_back = {a["account_id"] for a in facts["activity"]}
    # activity is only recorded after a notice of that person was sent (and while it was open)
    bad_removals = [
        w["account_id"]
        for a in facts["activity"]
        for w in removal_by_account[a["account_id"]]
        if w["at"] >= a["at"]
    ]
    ids = {i for a in facts["activity"] for i in a["notice_ids"]}
    their = [n for n in notices if n["notice_id"] in ids]
    not_cancelled = [n for n in their if n["state"] != "cancelled"]
    check(bool(came_back) and not bad_removals, f"0 removals of people active after their notice "
          f"({len(set(bad_removals))} of {len(came_back)} people)")  # fmt: skip
    kept = len(their) - len(not_cancelled)
    check(bool(their) and not not_cancelled, f"every notice of theirs cancelled ({kept} of {len(their)} "
          f"cancelled; not: {dict(Counter(n['state'] for n in not_cancelled))})")  # fmt: skip

    # caps
    max_seats = max((d["removed_seats"] for d in facts["per_day"]), default=0)
    max_writes = max((d["removal_writes"] for d in facts["per_day"]), default=0)
    check(max_seats <= cap, f"the per-day cap held every day (max {max_seats} seats a day, cap {cap}; "
          f"max {max_writes} writes a day)")  # fmt: skip
    check(facts["digest_names_undo"], "the digest names the undo command")

    # undo of one policy removal run: every removal write of that run reverted
    undo = facts["undo"]
    restored_pairs, removed_pairs, already_back = set(), set(), 0
    if undo:
        run_actions = {a["request_id"] for a in facts["actions"] if a["apply_run_id"] == undo["run_id"]}
        removed_pairs = {
            (RESTORES[w["action"]], w["account_id"], w["group_id"])
            for w in removal_writes
            if w["request_id"] in run_actions
        }
        # A write the API answered is the seat back: changed, or already back because the org's admins
        # (the simulator's) restored it between the removal and the undo, which then changes nothing.
        answered: dict[tuple[str, str, str], bool] = {}  # restored seat → whether a write changed it
        for w in undo["writes"]:
            if 200 <= w["status"] < 300:
                key = (w["action"], w["account_id"], w["group_id"])
                answered[key] = answered.get(key, False) or w["changed"]
        restored_pairs = set(answered)
        already_back = sum(not changed for changed in answered.values())
        what = (
            f"reclaim undo of policy apply run {undo['run_id'][:8]} restores it (exit {undo['exit']}; "
            f"{len(restored_pairs)} writes put back {len(removed_pairs)} removal writes, {already_back} of "
            "them already back)"
        )
        check(undo["exit"] == 0 and bool(removed_pairs) and restored_pairs == removed_pairs, what)
    else:
        check(False, "reclaim undo: no policy removal run to undo")

    states = Counter(n["state"] for n in notices)
    numbers = {
        "users": facts["users"], "days": facts["days"], "seconds": facts["seconds"],
        "notices": len(notices), "notice_states": dict(states),
        "messages_sent_journal": len(journal_sent), "messages_received": sum(received.values()),
        "distinct_received": len(received), "lost": len(lost), "unknown": len(unknown),
        "kills": [{"day": k["day"], "after": k["after"], "accepted": len(k["accepted"])} for k in kills],
        "duplicate_ids": len(duplicated), "duplicate_extra_messages": duplicate_extra,
        "duplicates_from_kill": len(from_kill),
        "outage_dates": [d.isoformat() for d in outage_dates],
        "sent_during_outage": facts["sent_during_outage"],
        "held_by_outage": len(held), "held_moved_out": moved,
        "moved_out_days": [min(moved_by, default=0), max(moved_by, default=0)],
        "removal_writes": len(removal_writes), "removed_seats": len(applied),
        "people_removed": len({w["account_id"] for w in removal_writes}),
        "seats_removed_again": again,  # restored by the simulator's admins, noticed and removed again
        "people_active_after_notice": len(came_back), "their_notices": len(their),
        "their_notices_cancelled": kept, "removals_of_them": len(set(bad_removals)),
        "max_seats_removed_a_day": max_seats, "max_removal_writes_a_day": max_writes, "cap": cap,
        "undo_writes": len(restored_pairs), "undo_of_removal_writes": len(removed_pairs),
        "undo_found_already_back": already_back,
    }  # fmt: skip
    return check.failures, numbers


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=17)
    # The first day notices every seat already idle (most of the notices); later days few or none (300
    # users, 20 days: none), so an outage later would hold nothing back. The kills come after it.
    parser.add_argument("--outage-from", type=int, default=0, help="first of the 3 SMTP outage days")
    parser.add_argument("--facts", type=Path, help="keep what the checks read in this file (pickle)")
    parser.add_argument("--check", type=Path, help="only check the facts a --facts run kept")
    args = parser.parse_args()
    if args.check:
        facts = pickle.loads(args.check.read_bytes())  # noqa: S301 (a file this script wrote)
    else:
        facts = simulate(args)
        if args.facts:
            args.facts.write_bytes(pickle.dumps(facts))
    failures, numbers = evaluate(facts)
    print("\n" + json.dumps(numbers, indent=1, default=str))
    print("\nFAILED: " + "; ".join(failures) if failures else "\nall checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
