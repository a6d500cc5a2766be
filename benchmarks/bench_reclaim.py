"""The reclaim acceptance scenario at 2,000 users: run → plan → apply → run, against the simulator.

Steps (each a real ``seatwatch`` process, the simulator in this process so its write log can be counted):

1. ``seatwatch run``, then ``seatwatch reclaim plan``;
2. the plan's first user uses the product (``POST /_simulator/activity``: visible at once, so the plan stays
   valid — advancing the clock a day would expire it, which is the point of the age rule);
3. ``reclaim apply --yes --max 25`` with the key made read-only: exit 2, one line, no write changed anything;
4. ``reclaim apply --yes --max 25`` killed with SIGKILL after 10 memberships were removed, then run again:
   it resumes the same apply run;
5. checks: exactly 25 memberships removed (the simulator's write log), each pair once, each a
   cleanup-ready seat whose every granting group is single-product, of a user who is no admin, not exempt,
   a person, and truly idle (the simulator's truth); the user made active skipped with a reason;
6. ``seatwatch run`` again: the 25 seats are gone from ``marts.fct_user_product_access`` and
   ``marts.reclaim_actions`` shows them verified (and the run summary says so);
7. ``reclaim undo --apply-run ID``: 25 memberships added back.

Then the same loop with lost answers (``--lost-answer-rate``: the simulator carries out a share of the writes
and answers them 504 or drops the connection): run → plan → apply → run → undo, and the four counts must be
equal: actions the journal shows applied, changes in the API's write log, writes verified by the next run,
memberships restored by undo.

    uv run python -m benchmarks.bench_reclaim                  # 2,000 users (about 6 min on 2 cores)
    uv run python -m benchmarks.bench_reclaim --users 300      # quicker
    uv run python -m benchmarks.bench_reclaim --scenario lost  # only the lost-answer loop

Exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import httpx

from pipeline.simulator.model import FaultConfig, SimulatorConfig
from pipeline.simulator.server import start_in_thread
from pipeline.simulator.world import World
from tests.support.processes import seatwatch_env
from tests.support.published_facts import read_published_facts

MAX = 25
KILL_AFTER = 10
failures: list[str] = []
timings: dict[str, float] = {}


def check(ok: bool, what: str) -> None:
    print(f"  {'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        failures.append(what)


def seatwatch(env: dict[str, str], step: str, *args: str) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 (a fixed argv, no shell)
        [sys.executable, "-m", "pipeline.cli", *args], env=env, capture_output=True, text=True, check=False
    )
    timings[step] = time.monotonic() - started
    print(f"{step}: exit {done.returncode} in {timings[step]:.1f} s")
    return done


def _changed(world: World, action: str) -> list[Any]:
    return [w for w in world.writes.log if w.changed and w.action == action]


def _audit_removals(world: World) -> dict[str, str | None]:
    """The audit log's membership removals (event id → account), as an admin sees them in the admin hub."""
    return {
        event.id: event.subject_account_id
        for org in world.orgs
        for event in world.audit_events(org)
        if event.action == "user_removed_from_group"
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--scenario", choices=("all", "kill", "lost"), default="all")
    parser.add_argument("--lost-answer-rate", type=float, default=0.5)
    args = parser.parse_args()
    if args.scenario in ("all", "kill"):
        kill_scenario(args)
    if args.scenario in ("all", "lost"):
        lost_answer_scenario(args)
    print("FAILED: " + "; ".join(failures) if failures else "All checks passed.")
    return 1 if failures else 0


def kill_scenario(args: argparse.Namespace) -> None:
    print("== apply killed with SIGKILL, resumed, verified, undone")
    world = World(SimulatorConfig(users=args.users, seed=args.seed))
    org_id = next(iter(world.orgs))
    with tempfile.TemporaryDirectory(prefix="bench-reclaim-") as tmp, start_in_thread(world) as simulator:
        data = Path(tmp) / "data"
        env = seatwatch_env(simulator.base_url, org_id, world.api_key, data)
        plan_path = Path(tmp) / "plan.json"

        done = seatwatch(env, "run 1", "run", "--quiet")
        check(done.returncode == 0, f"first run succeeds ({done.stderr.strip()[-200:]})")
        done = seatwatch(
            env, "plan", "reclaim", "plan", "--output", str(plan_path), "--csv", str(Path(tmp) / "p.csv")
        )
        check(done.returncode == 0, "plan written")
        print(done.stdout)
        plan = json.loads(plan_path.read_text())
        published = data / "seatwatch.duckdb"
        facts = read_published_facts(published)
        lanes, users, groups = facts.lanes, facts.users, facts.groups

        removals = [a for a in plan["actions"] if a["kind"] == "remove_memberships"]
        check(len(removals) > MAX + 1, f"the plan has more than {MAX + 1} removals ({len(removals)})")
        active = removals[0]
        seat = active["seats"][0]
        response = httpx.post(
            f"{simulator.base_url}/_simulator/activity",
            json={
                "accountId": active["account_id"],
                "product": seat["product_key"],
                "cloudId": seat["site_id"],
            },
            headers={"Authorization": f"Bearer {world.api_key}"},
        )
        check(response.status_code == 200, "a planned user uses the product after the plan")
        truth = {u["account_id"]: u for u in world.truth()["users"]}

        apply = ("reclaim", "apply", "--plan", str(plan_path), "--yes", "--max", str(MAX))
        audit_before = _audit_removals(world)
        world.config.read_only_key = True
        done = seatwatch(env, "apply, read-only key", *apply)
        world.config.read_only_key = False
        err_lines = done.stderr.strip().splitlines()
        check(
            done.returncode == 2 and len(err_lines) == 1,
            f"read-only key: exit 2 and one line ({err_lines[:2]})",
        )
        check(not any(w.changed for w in world.writes.log), "read-only key: no write changed anything")

        started = time.monotonic()
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "pipeline.cli", *apply],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while process.poll() is None and len(_changed(world, "remove_group_member")) < KILL_AFTER:
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        code = process.wait()
        killed_at = len(_changed(world, "remove_group_member"))
        timings["apply until SIGKILL"] = time.monotonic() - started
        check(code == -signal.SIGKILL, f"apply killed with SIGKILL after {killed_at} removals")

        done = seatwatch(env, "apply, resumed", *apply)
        check(
            done.returncode == 0 and "Resuming apply run" in done.stderr,
            "the next apply resumes the killed run",
        )
        print(done.stdout[-1500:])

        removed = _changed(world, "remove_group_member")
        audited = {k: v for k, v in _audit_removals(world).items() if k not in audit_before}
        check(
            len(audited) == MAX and sorted(audited.values()) == sorted(w.account_id for w in removed),
            f"the audit log shows {len(audited)} removals, one per write",
        )
        pairs = Counter((w.group_id, w.account_id) for w in removed)
        check(len(removed) == MAX, f"exactly {MAX} memberships removed (write log: {len(removed)})")
        check(max(pairs.values()) == 1, "each membership removed exactly once")
        check(
            all(w.status in (204, 403) for w in world.writes.log),
            "no other answer (no 404 of a repeated write)",
        )
        check(
            active["account_id"] not in {w.account_id for w in removed},
            "the user made active was not touched",
        )
        check("active in" in done.stdout or "active in" in done.stderr, "… and skipped with the reason")
        by_pair = {(w["group_id"], a["account_id"]): a for a in removals for w in a["writes"]}
        safe = True
        for write in removed:
            action = by_pair.get((write.group_id, write.account_id))
            seat = action["seats"][0] if action else None
            ok = (
                action is not None
                and lanes.get((action["account_id"], seat["product_key"], seat["site_id"])) == "cleanup_ready"
                and all(groups[w["group_id"]] == (False, False, False) for w in action["writes"])
                and users[write.account_id] == (False, False, False, "atlassian")
            )
            truth_user = truth.get(write.account_id)
            if truth_user is not None:
                seats = {(s["product_key"], s["site_id"]): s for s in truth_user["seats"]}
                ok = (
                    ok
                    and not truth_user["platform_roles"]
                    and seats[(seat["product_key"], seat["site_id"])]["is_idle"]
                )
            safe = safe and ok
        check(
            safe,
            "every removal: a cleanup-ready seat, single-product groups, no admin/exempt/app, truly idle",
        )

        done = seatwatch(env, "run 2", "run")
        check(done.returncode == 0, "second run succeeds")
        check(f"{MAX} verified" in done.stdout, f"the run summary shows {MAX} verified")
        with duckdb.connect(str(published), read_only=True) as con:
            run_id, verified = con.execute(
                "select apply_run_id, count(*) filter (where state = 'verified') from marts.reclaim_actions "
                "group by 1 order by min(planned_at) desc limit 1"
            ).fetchone()
            still = con.execute(
                "select count(*) from marts.fct_user_product_access as s join marts.reclaim_actions as r "
                "using (org_id, account_id, product_key, site_id) "
                "where r.state = 'verified' and r.action = 'remove_group_member' and s.has_access"
            ).fetchone()[0]
            unverified = con.execute(
                "select action, group_name, account_id, product_key, journal_state, verification "
                "from marts.reclaim_actions where apply_run_id = ? and state != 'verified' "
                "and journal_state != 'skipped'",
                [run_id],
            ).fetchall()
        check(verified == MAX, f"marts.reclaim_actions: {verified} verified (not: {unverified})")
        check(still == 0, "the verified seats are gone from marts.fct_user_product_access")
        status = seatwatch(env, "status", "status")
        check(f"{MAX} verified" in status.stdout, "seatwatch status shows them verified")

        done = seatwatch(env, "undo", "reclaim", "undo", "--apply-run", run_id)
        added = _changed(world, "add_group_member")
        check(
            done.returncode == 0 and len(added) == MAX, f"undo restores all {MAX} (write log: {len(added)})"
        )
        org = world.orgs[org_id]
        check(
            all(w.account_id in org.groups[w.group_id].members for w in removed),
            "every user is back in the group",
        )

    print("\nTimings (s): " + ", ".join(f"{step} {seconds:.1f}" for step, seconds in timings.items()))
    print(f"Plan: {plan['counts']}, monthly cost freed {plan['monthly_cost_freed']}")
    log = Counter((w.action, w.status) for w in world.writes.log)
    print(f"Killed after {killed_at} removals; write log: {dict(log)}")


def lost_answer_scenario(args: argparse.Namespace) -> None:
    rate = args.lost_answer_rate
    print(f"\n== the answer of a write lost with probability {rate} (504 or a dropped connection)")
    faults = FaultConfig(lost_answer_rate=rate)
    world = World(SimulatorConfig(users=args.users, seed=args.seed, faults=faults))
    org_id = next(iter(world.orgs))
    with (
        tempfile.TemporaryDirectory(prefix="bench-reclaim-lost-") as tmp,
        start_in_thread(world) as simulator,
    ):
        data = Path(tmp) / "data"
        env = seatwatch_env(simulator.base_url, org_id, world.api_key, data)
        plan_path = Path(tmp) / "plan.json"
        done = seatwatch(env, "lost: run 1", "run", "--quiet")
        check(done.returncode == 0, f"first run succeeds ({done.stderr.strip()[-200:]})")
        done = seatwatch(env, "lost: plan", "reclaim", "plan", "--output", str(plan_path))
        check(done.returncode == 0, "plan written")
        done = seatwatch(
            env, "lost: apply", "reclaim", "apply", "--plan", str(plan_path), "--yes", "--max", str(MAX)
        )
        check(done.returncode == 0, f"apply succeeds ({done.stderr.strip()[-200:]})")
        removed = _changed(world, "remove_group_member")
        changes = removed + _changed(world, "suspend_user")
        lost = sum(1 for w in changes if w.answer_lost)
        published = data / "seatwatch.duckdb"
        done = seatwatch(env, "lost: run 2", "run", "--quiet")
        check(done.returncode == 0, "second run succeeds")
        with duckdb.connect(str(published), read_only=True) as con:
            run_id, actions, verified, by_reason = con.execute(
                "select apply_run_id, count(*) filter (where journal_state = 'applied'), "
                "count(*) filter (where state = 'verified'), "
                "count(*) filter (where reason like 'the answer was lost%') "
                "from marts.reclaim_actions group by 1"
            ).fetchone()
        done = seatwatch(env, "lost: undo", "reclaim", "undo", "--apply-run", run_id)
        check(done.returncode == 0, f"undo succeeds ({done.stderr.strip()[-200:]})")
        restored = _changed(world, "add_group_member") + _changed(world, "restore_user")
        org = world.orgs[org_id]
        back = all(w.account_id in org.groups[w.group_id].members for w in removed)
    counts = {
        "applied (journal)": actions,
        "changes (write log)": len(changes),
        "verified": verified,
        "restored": len(restored),
    }
    print(
        f"  {counts}; answers lost: {lost} ({by_reason} journaled as such), write log: "
        f"{dict(Counter((w.action, w.status) for w in world.writes.log))}"
    )
    check(
        len(set(counts.values())) == 1 and actions > 0, f"actions = changes = verified = restored ({counts})"
    )
    check(actions <= MAX, f"no more than the cap ({MAX}) changed")
    check(
        lost > 0 and by_reason == lost,
        f"every lost answer journaled as applied with its reason ({by_reason})",
    )
    check(back, "every user is back in the group")


if __name__ == "__main__":
    sys.exit(main())
