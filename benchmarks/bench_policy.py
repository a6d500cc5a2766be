"""The reclaim policy's acceptance scenario: daily runs in enforce mode against the simulator, with a real
SMTP server and a webhook receiver on loopback (both started here).

Each simulated day: the activity scheduled for that day (``POST /_simulator/activity``), one
``seatwatch run`` (a real process; its policy step notices, cancels and removes), then
``POST /_simulator/advance?days=1``. For a random fifth of the people noticed, the simulator records use of
every noticed seat during the notice period. Three ``kill -9`` of a run while it sends (after the 1st, 3rd
and 5th message the server accepted in that run; the day is run again), and three days of SMTP outage.

Measured (exit 1 when a check fails):

* every removal was preceded by exactly one notice of that seat, whose message the server received, sent
  at least the notice period earlier by the API's clock;
* 0 removals of a person active after their notice, and every such notice cancelled;
* the server received exactly the messages the journal says were sent (by Message-ID): 0 lost; duplicates
  only the one resend per kill (same Message-ID; the journal could not record the acceptance);
* nothing sent during the outage; the removal dates of the notices it held back moved out;
* the caps held every day (at most 25 removals a day);
* ``seatwatch reclaim undo`` of a policy removal run restores it.

    uv run python -m benchmarks.bench_policy                          # 2,000 users, 60 days
    uv run python -m benchmarks.bench_policy --users 300 --days 20    # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, timedelta
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
failures: list[str] = []


def check(ok: bool, what: str) -> None:
    print(f"  {'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        failures.append(what)


def _run(env: dict[str, str], kill_after: int | None, inbox: Any) -> int:
    """One `seatwatch run`; with ``kill_after``, SIGKILL once the server accepted that many more messages."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "run", "--quiet"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if kill_after is not None:
        start = len(inbox.messages)

        def maybe_kill(count: int) -> None:
            if count - start == kill_after:
                # just after the 250 went back: the process may or may not have journaled it
                threading.Timer(0.02, lambda: os.kill(process.pid, signal.SIGKILL)).start()

        inbox.after_accept = maybe_kill
    _, err = process.communicate()
    inbox.after_accept = None
    if process.returncode not in (0, -signal.SIGKILL):
        print(f"    run exit {process.returncode}: {err.strip()[-300:]}")
    return process.returncode


def _notices(warehouse: Path) -> list[dict[str, Any]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute("select * from reclaim.notices")
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--outage-from", type=int, default=None, help="first outage day (default: days // 3)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    outage = set(range(args.outage_from or args.days // 3, (args.outage_from or args.days // 3) + 3))

    world = World(SimulatorConfig(users=args.users, seed=args.seed))
    org_id = next(iter(world.orgs))
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="bench-policy-") as tmp,
        start_in_thread(world) as simulator,
        smtp_server() as smtp,
        webhook_receiver() as hook,
    ):
        data = Path(tmp) / "data"
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
        scheduled: dict[int, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        active_after_notice: dict[str, Any] = {}  # account → when it used the seat (API clock)
        seen_people: set[str] = set()
        kills = list(KILL_AFTER)
        removals_by_day: dict[int, int] = {}
        sent_during_outage = 0
        outage_dates: list[Any] = []
        for day in range(args.days):
            for account_id, seat in scheduled.pop(day, []):
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
                    active_after_notice.setdefault(account_id, world.now)
            smtp.inbox.down = day in outage
            before_messages = len(smtp.inbox.messages)
            day_started = time.monotonic()
            code = None
            while kills and day not in outage:
                code = _run(env, kills[0], smtp.inbox)
                if code != -signal.SIGKILL:
                    break  # fewer messages than the kill point this day: try on a later day
                print(f"  day {day}: killed after message {kills.pop(0)} of the run; running the day again")
                code = None
            if code is None:
                code = _run(env, None, smtp.inbox)
            check(code == 0, f"day {day}: the run succeeds (exit {code})")
            if day in outage:
                outage_dates.append(world.now.date())
                sent_during_outage += len(smtp.inbox.messages) - before_messages
            notices = _notices(data / "warehouse.duckdb")
            today = world.now.date()
            # the cap counts actions (seats), not writes: a seat granted by two groups is two writes
            removals_by_day[day] = len(
                [
                    n
                    for n in notices
                    if n["state"] == "applied" and n["closed_at"].astimezone(UTC).date() == today
                ]
            )
            # a fifth of the newly noticed people use every noticed seat during their notice period
            fresh: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for notice in notices:
                if notice["sent_at"] is not None and notice["account_id"] not in seen_people:
                    fresh[notice["account_id"]] += json.loads(notice["seats"])
            for account_id, seats in sorted(fresh.items()):
                seen_people.add(account_id)
                if rng.random() < 0.2:
                    when = day + rng.randint(1, NOTICE_DAYS - 2)
                    scheduled[when] += [(account_id, seat) for seat in seats]
            print(
                f"day {day} ({world.now:%Y-%m-%d}): {len(smtp.inbox.messages) - before_messages} message(s), "
                f"{removals_by_day[day]} removal(s), {time.monotonic() - day_started:.1f} s",
                flush=True,
            )
            httpx.post(f"{simulator.base_url}/_simulator/advance", params={"days": 1}, headers=headers)

        notices = _notices(data / "warehouse.duckdb")
        print(f"\n{args.days} days in {time.monotonic() - started:.0f} s; checks:")
        received = Counter(smtp.inbox.message_ids())
        journal_sent = {n["message_id"] for n in notices if n["sent_at"] is not None}
        check(not kills, f"all three kills happened during sending ({len(KILL_AFTER) - len(kills)})")
        check(set(received) == journal_sent, f"the server received exactly the journal's sent messages "
              f"({len(journal_sent)} ids; lost {len(journal_sent - set(received))}, "
              f"unknown {len(set(received) - journal_sent)})")  # fmt: skip
        duplicates = sum(count - 1 for count in received.values() if count > 1)
        check(
            duplicates <= len(KILL_AFTER),
            f"duplicates only from the kills: {duplicates} (≤ {len(KILL_AFTER)})",
        )
        check(sent_during_outage == 0, f"nothing sent during the outage ({sent_during_outage})")
        check(not [n for n in notices if n["state"] == "planned"], "no notice left unsent")
        held_by_outage = [n for n in notices if n["planned_at"].astimezone(UTC).date() in outage_dates]
        moved = all(
            n["sent_at"].astimezone(UTC).date() > max(outage_dates) for n in held_by_outage if n["sent_at"]
        )
        check(moved, f"notices planned during the outage ({len(held_by_outage)}) were sent after it, their "
              "removal dates counted from then")  # fmt: skip
        check(all(count <= MAX_REMOVALS_PER_DAY for count in removals_by_day.values()),
              f"the per-day cap held every day (max {max(removals_by_day.values())})")  # fmt: skip
        removals = [w for w in world.writes.log if w.changed and w.action in REMOVALS]
        applied = [n for n in notices if n["state"] == "applied"]
        check(bool(removals) and len(removals) >= len(applied), f"removals happened ({len(removals)} writes)")
        by_account = defaultdict(list)
        for notice in notices:
            by_account[notice["account_id"]].append(notice)
        bad_notice, early = [], []
        for write in removals:
            seats = [n for n in by_account[write.account_id] if n["state"] == "applied"]
            if len(seats) < 1 or any(n["message_id"] not in received for n in seats):
                bad_notice.append(write.account_id)
                continue
            if any(n["sent_at"] + timedelta(days=NOTICE_DAYS) > write.at for n in seats):
                early.append(write.account_id)
        keys = Counter(n["action_key"] for n in notices if n["state"] == "applied")
        check(
            not bad_notice,
            f"every removal was preceded by a notice the server received ({len(bad_notice)} not)",
        )
        check(max(keys.values(), default=1) == 1, "each removed seat had exactly one notice acted on")
        check(
            not early, f"every removal ≥ {NOTICE_DAYS} days after its notice, API clock ({len(early)} early)"
        )
        removed_people = {w.account_id for w in removals}
        came_back = set(active_after_notice)
        check(not (removed_people & came_back), f"0 removals of people active after their notice "
              f"({len(removed_people & came_back)} of {len(came_back)})")  # fmt: skip
        open_or_applied = [n for n in notices if n["account_id"] in came_back and n["state"] in ("applied",)]
        cancelled = [n for n in notices if n["account_id"] in came_back and n["state"] == "cancelled"]
        what = f"their notices cancelled ({len(cancelled)} cancelled, {len(open_or_applied)} applied)"
        check(not open_or_applied and len(cancelled) > 0, what)
        check(any("undo" in body["text"] for body in hook.bodies), "the digest names the undo command")
        run_id = next((n["apply_run_id"] for n in applied), None)
        if run_id:
            before = len(world.writes.log)
            done = subprocess.run(  # noqa: S603
                [sys.executable, "-m", "pipeline.cli", "reclaim", "undo", "--apply-run", run_id],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            restored = [w for w in world.writes.log[before:] if w.changed]
            undone = [n for n in applied if n["apply_run_id"] == run_id]
            what = (
                f"reclaim undo restores a policy removal run ({len(restored)} writes, exit {done.returncode})"
            )
            check(done.returncode == 0 and len(restored) >= len(undone), what)
    print("\nFAILED: " + "; ".join(failures) if failures else "\nall checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
