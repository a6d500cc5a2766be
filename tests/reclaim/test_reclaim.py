"""Reclaim on the shared demo run: the plan from its published copy, applied to the same org served again.

The demo org is rebuilt from its seed, so a world with the demo's seed and start is the org the demo run
saw; the plan made from the published copy is applied to it (the full 2,000-user scenario with a real
SIGKILL is benchmarks/bench_reclaim.py). One scenario test drives the writes in order (tests run in a
random order, the world is shared); the other tests only read.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from contextlib import redirect_stderr
from datetime import UTC, date
from io import StringIO
from pathlib import Path
from typing import Any

import pytest

from pipeline.config.settings import Settings
from pipeline.reclaim import calls as calls_module
from pipeline.reclaim.apply import apply_plan
from pipeline.reclaim.journal import Journal
from pipeline.reclaim.plan import Filters, PlanError, build_plan, check_age, csv_rows, load_plan
from pipeline.reclaim.undo import undo_apply
from pipeline.simulator.world import World
from tests.support.demo import DemoRun
from tests.support.published_facts import read_published_facts
from tests.support.reclaim_org import ReclaimOrg, reclaim_org

Org = ReclaimOrg


@pytest.fixture(scope="module")
def org(demo_run: DemoRun, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    assert demo_run.exit_code == 0, demo_run.stderr
    with reclaim_org(demo_run.published, tmp_path_factory.mktemp("reclaim")) as made:
        yield made


def test_the_plan_acts_only_on_cleanup_ready_seats_of_single_product_groups(demo_run: DemoRun) -> None:
    plan = build_plan(demo_run.published, Filters())
    facts = read_published_facts(demo_run.published)
    lanes, users, groups = facts.lanes, facts.users, facts.groups
    assert plan["actions"] and plan["no_action"]
    for action in plan["actions"]:
        assert users[action["account_id"]] == (False, False, False, "atlassian")
        for seat in action["seats"]:
            assert lanes[(action["account_id"], seat["product_key"], seat["site_id"])] == "cleanup_ready"
        for write in action["writes"]:
            assert write["write"] == "suspend_user" or groups[write["group_id"]] == (False, False, False)
    # every candidate seat is either acted on or listed with the reason, never both
    acted = {(a["account_id"], s["product_key"], s["site_id"]) for a in plan["actions"] for s in a["seats"]}
    left = {(n["account_id"], n["product_key"], n["site_id"]) for n in plan["no_action"]}
    candidates = {key for key, lane in lanes.items() if lane is not None}
    assert acted | left == candidates and not acted & left
    reasons = Counter(n["reason"].split(":")[0] for n in plan["no_action"])
    assert reasons["needs review"] and reasons["protected"]
    assert plan["monthly_cost_freed"] == round(sum(a["monthly_cost"] for a in plan["actions"]), 2) > 0
    assert plan["source"]["runs"][0]["run_id"] and plan["as_of_date"]
    assert len(csv_rows(plan)) == len(acted) + len(left)
    # filters and the cap
    jira = build_plan(demo_run.published, Filters(product="jira", reason="inactive", max_actions=3))
    assert len(jira["actions"]) <= 3
    assert all(
        a["reclaim_reason"] == "inactive" and a["seats"][0]["product_key"] == "jira" for a in jira["actions"]
    )


def test_a_changed_or_old_plan_is_refused(org: Org, tmp_path: Path) -> None:
    edited = tmp_path / "edited.json"
    plan = json.loads(org.plan_path.read_text())
    plan["actions"] = plan["actions"][:1]
    edited.write_text(json.dumps(plan))
    with pytest.raises(PlanError, match="changed after it was made"):
        load_plan(edited)
    from datetime import datetime, timedelta

    as_of = date.fromisoformat(org.plan["as_of_date"])
    check_age(org.plan, datetime(as_of.year, as_of.month, as_of.day, 23, tzinfo=UTC) + timedelta(days=1))
    with pytest.raises(PlanError, match="may be applied until"):
        check_age(org.plan, datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC) + timedelta(days=2))


def test_the_dry_run_and_the_demo_org_write_nothing(org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = org.cli(monkeypatch, "reclaim", "apply", "--plan", str(org.plan_path), "--max", "3")
    assert code == 0 and out.startswith("Dry run") and out.count("would do") >= 3
    for name in org.env():
        monkeypatch.delenv(name)
    from pipeline.cli import main

    err = StringIO()
    with redirect_stderr(err):
        code = main(["reclaim", "apply", "--plan", str(org.plan_path), "--yes"])
    assert code == 2 and "demo org" in err.getvalue() and err.getvalue().count("\n") == 1


def _writes(world: World) -> list[Any]:
    return list(world.writes.log)


def test_apply_skips_changed_users_survives_a_crash_and_undo_restores(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, plan = org.world, org.plan
    removals = [a for a in plan["actions"] if a["kind"] == "remove_memberships"]
    # a read-only key: exit 2 and one line, and nothing written
    world.config.read_only_key = True
    code, _out, err = org.apply_plan(monkeypatch, max_actions=4)
    world.config.read_only_key = False
    assert code == 2 and err.startswith("seatwatch: error: The Atlassian API refused to write")
    assert err.count("seatwatch: error:") == 1 and world.api_key not in err
    assert [w.status for w in _writes(world)] == [403] and not any(w.changed for w in _writes(world))

    # the first planned user uses the product after the plan: skipped, and the cap still acts on 4 seats
    first = removals[0]
    seat = first["seats"][0]
    org.control(
        "activity",
        {"accountId": first["account_id"], "product": seat["product_key"], "cloudId": seat["site_id"]},
    )

    # a crash right after the API acted on the third write (the process dies before journaling it)
    real_call, calls = calls_module._call, []

    class Killed(BaseException):
        pass

    def dying(api: Any, entry: Any) -> Any:
        receipt = real_call(api, entry)
        calls.append(entry)
        if len(calls) == 3:
            raise Killed
        return receipt

    monkeypatch.setattr(calls_module, "_call", dying)
    with pytest.raises(Killed):
        apply_plan(org.settings, org.plan_path, max_actions=4, trigger="test", say=lambda line: None)
    monkeypatch.setattr(calls_module, "_call", real_call)
    lines: list[str] = []
    outcome = apply_plan(org.settings, org.plan_path, max_actions=4, trigger="test", say=lines.append)
    assert outcome.resumed and any("Resuming" in line for line in lines)

    changed = [w for w in _writes(world) if w.changed]
    assert len(changed) == 4 and {w.action for w in changed} <= {"remove_group_member", "suspend_user"}
    assert len({(w.group_id, w.account_id) for w in changed}) == 4  # each write exactly once
    assert all(w.status in (204, 403) for w in _writes(world))
    assert first["account_id"] not in {w.account_id for w in changed}
    with Journal.open(org.settings.warehouse_path) as journal:
        rows = journal.rows(outcome.run_id)
    states = Counter(row["state"] for row in rows)
    assert states == {"applied": 4, "skipped": 1}
    skipped = next(row for row in rows if row["state"] == "skipped")
    assert skipped["account_id"] == first["account_id"] and "active in" in skipped["reason"]
    # the write the crash interrupted was found done by a read (its answer, and request id, were lost)
    resumed = [row for row in rows if (row["reason"] or "").startswith("resumed")]
    assert len(resumed) == 1 and resumed[0]["state"] == "applied" and resumed[0]["request_id"] is None
    answered = {row["request_id"] for row in rows if row["state"] == "applied" and row not in resumed}
    assert len(answered) == 3 and answered <= {w.request_id for w in changed}

    # undo: a product at its user limit refuses the re-add of that seat (reported per action, exit 1);
    # once the limit is raised, undo again restores the rest: all four are back, in the same journal
    removed = next(w for w in changed if w.action == "remove_group_member")
    seat = next(a for a in plan["actions"] if a["account_id"] == removed.account_id)["seats"][0]

    def limit(value: int) -> None:
        org.control(
            "user-limit", {"product": seat["product_key"], "cloudId": seat["site_id"], "limit": value}
        )

    limit(0)
    code, out, err = org.cli(monkeypatch, "reclaim", "undo", "--apply-run", outcome.run_id[:8])
    assert code == 1 and err.count("seatwatch: error:") == 1 and "could not be restored" in err
    assert "user limit" in out
    limit(100_000)
    second = undo_apply(org.settings, outcome.run_id, trigger="test", say=lambda line: None)
    assert not second.failures
    restores = [w for w in _writes(world) if w.changed and w.action in ("add_group_member", "restore_user")]
    assert len(restores) == 4 and len({(w.group_id, w.account_id) for w in restores}) == 4
    with Journal.open(org.settings.warehouse_path) as journal:
        assert Counter(row["state"] for row in journal.rows(outcome.run_id)) == {"undone": 4, "skipped": 1}
        assert Counter(row["state"] for row in journal.rows(second.run_id))["applied"] >= 1


def test_the_dagster_job_needs_the_approval_and_records_the_journal(org: Org, tmp_path: Path) -> None:
    import dagster as dg

    from pipeline.defs.reclaim import RECLAIM_JOURNAL_KEY, reclaim_apply_job

    # a plan with nothing to do (no such product): the scenario test's world is left alone
    empty = build_plan(Path(org.plan["source"]["published_path"]), Filters(product="no-such-product"))
    path = tmp_path / "empty.json"
    path.write_text(json.dumps(empty))
    settings = Settings(org.base_url, org.settings.orgs, 24.0, tmp_path / "data", wait_timeout_seconds=0)
    (tmp_path / "data").mkdir()
    shutil.copyfile(org.published, settings.published_path)

    def run(approved: bool) -> dg.ExecuteInProcessResult:
        config = {"plan_path": str(path), "approved": approved}
        return reclaim_apply_job.execute_in_process(
            run_config={"ops": {"apply_reclaim_plan": {"config": config}}},
            resources={"settings": settings},
            raise_on_error=False,
        )

    refused = run(approved=False)
    assert not refused.success and not settings.warehouse_path.exists()
    done = run(approved=True)
    assert done.success
    [materialization] = done.asset_materializations_for_node("apply_reclaim_plan")
    assert materialization.asset_key == RECLAIM_JOURNAL_KEY
    assert materialization.metadata["apply_run_id"].value and "journal" in materialization.metadata
