"""An edited plan (its content hash recomputed, as anyone can) is a request, never an authority: apply derives
each action again from the published copy and the API, and the cap from the seats held now.

Each case writes by hand an action on a seat of the shared demo data that the current rules would never put
in a plan, and applies it with ``--max 10000``: no write reaches that account, its journal rows say why, and
the cap is 10 % of the seats the data holds.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.reclaim.apply import apply_plan
from pipeline.reclaim.journal import Journal
from pipeline.reclaim.plan import MAX_SHARE_OF_SEATS
from pipeline.warehouse import connect
from tests.support.demo import DemoRun
from tests.support.reclaim_org import ReclaimOrg, hand_written_removal, reclaim_org, write_plan

# Seat → (org, account, product, site): one of each kind the plan refuses, found in the published copy.
_SEATS = {
    "app account": """
        select s.org_id, s.account_id, s.product_key, s.site_id
        from marts.fct_user_product_access as s join marts.dim_users as u using (org_id, account_id)
        where s.has_access and u.account_type = 'app'
          and s.reclaim_reason is not null and s.is_direct_access = false""",
    "group granting two products": """
        select s.org_id, s.account_id, s.product_key, s.site_id
        from marts.fct_user_product_access as s join marts.dim_users as u using (org_id, account_id)
        join marts.fct_seat_granting_groups as g using (org_id, account_id, product_key, site_id)
        where s.has_access and s.reclaim_lane = 'needs_review' and g.is_multi_product
          and u.account_type = 'atlassian' and not u.is_exempt""",
    "user active yesterday": """
        select s.org_id, s.account_id, s.product_key, s.site_id
        from marts.fct_user_product_access as s join marts.dim_users as u using (org_id, account_id)
        where s.has_access and s.last_active_date = s.as_of_date - 1 and s.reclaim_lane is null
          and u.account_type = 'atlassian' and not u.is_exempt and s.is_direct_access = false
          and not exists (
              select 1 from marts.fct_seat_granting_groups as g
              where (g.org_id, g.account_id, g.product_key, g.site_id)
                  = (s.org_id, s.account_id, s.product_key, s.site_id)
                and (not g.grants_only_this_seat or g.is_external_synced or g.is_admin_group))""",
    "org admin": """
        select s.org_id, s.account_id, s.product_key, s.site_id
        from marts.fct_user_product_access as s join marts.dim_users as u using (org_id, account_id)
        where s.has_access and u.is_org_admin and s.is_direct_access = false""",
}


def _seat(published: Path, kind: str) -> tuple[str, str, str, str]:
    with connect(published, read_only=True) as con:
        row = con.execute(_SEATS[kind] + " order by all limit 1").fetchone()
    assert row, f"the demo data has no {kind}"
    return row


def _exempt_since_the_plan(org: ReclaimOrg) -> dict[str, Any]:
    """An account the plan acts on, exempted in the data apply reads (as a run after exempt_accounts.csv
    listed it publishes it); the plan file keeps its action."""
    action = next(a for a in org.plan["actions"] if a["kind"] == "remove_memberships")
    with connect(org.published) as con:
        con.execute(
            "update marts.dim_users set is_exempt = true, exempt_reason = 'listed in exempt_accounts.csv' "
            "where account_id = ?",
            [action["account_id"]],
        )
        con.execute(
            "update marts.fct_user_product_access set reclaim_lane = 'protected' where account_id = ?",
            [action["account_id"]],
        )
    return action


def _hand_written(kind: str, **seat_changes: Any) -> Callable[[ReclaimOrg], dict[str, Any]]:
    return lambda org: hand_written_removal(org.published, *_seat(org.published, kind), **seat_changes)


CASES: dict[str, Callable[[ReclaimOrg], dict[str, Any]]] = {
    "app account": _hand_written("app account"),
    "exempt account": _exempt_since_the_plan,
    "group granting two products": _hand_written("group granting two products"),
    # The edited plan says her last activity was 9999-12-31, so nothing the API shows is "after the plan".
    "user active yesterday": _hand_written("user active yesterday", last_active_date="9999-12-31"),
    "org admin": _hand_written("org admin"),
}


@pytest.fixture
def org(demo_run: DemoRun, tmp_path: Path) -> Iterator[ReclaimOrg]:
    assert demo_run.exit_code == 0, demo_run.stderr
    with reclaim_org(demo_run.published, tmp_path) as made:
        yield made


def _current_cap(org: ReclaimOrg) -> int:
    with connect(org.published, read_only=True) as con:
        held = con.execute("select count(*) from marts.fct_user_product_access where has_access").fetchone()[
            0
        ]
    return math.floor(held * MAX_SHARE_OF_SEATS)


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_action_the_current_rules_refuse_is_skipped_whatever_the_file_says(
    org: ReclaimOrg, case: str
) -> None:
    action = CASES[case](org)
    plan = {**org.plan, "actions": [action], "counts": {**org.plan["counts"], "seats_held": 100_000}}
    path = write_plan(org.plan_path.with_name("edited.json"), plan)

    outcome = apply_plan(org.settings, path, max_actions=10_000, trigger="test", say=lambda line: None)

    assert [w for w in org.world.writes.log if w.account_id == action["account_id"]] == []
    with Journal.open(org.settings.warehouse_path) as journal:
        rows = journal.rows(outcome.run_id)
    assert rows and all(row["state"] == "skipped" and row["reason"] for row in rows), rows
    assert outcome.cap == _current_cap(org)


def test_an_inflated_seat_count_does_not_raise_the_cap(org: ReclaimOrg) -> None:
    # A few actions are enough: the cap is decided before the first one.
    plan = {
        **org.plan,
        "actions": org.plan["actions"][:3],
        "counts": {**org.plan["counts"], "seats_held": 100_000},
    }
    path = write_plan(org.plan_path.with_name("inflated.json"), plan)

    outcome = apply_plan(org.settings, path, max_actions=10_000, trigger="test", say=lambda line: None)

    assert outcome.cap == _current_cap(org) < 10_000
    acted = {w.account_id for w in org.changed()}
    assert len(acted) <= outcome.cap


def test_the_skip_reasons_name_what_the_current_data_says(org: ReclaimOrg) -> None:
    reasons = {}
    for case in ("app account", "org admin", "group granting two products"):
        action = CASES[case](org)
        path = write_plan(org.plan_path.with_name(f"{case}.json"), {**org.plan, "actions": [action]})
        outcome = apply_plan(org.settings, path, max_actions=5, trigger="test", say=lambda line: None)
        reasons[case] = outcome.rows[0]["reason"]
    assert "account type app" in reasons["app account"]
    assert "org admin" in reasons["org admin"]
    assert "multi-product group" in reasons["group granting two products"]
    assert json.loads(org.plan_path.read_text())["hash"] == org.plan["hash"]  # the real plan is untouched
