"""The dbt project, built on the hand-written raw fixture (tests/support/raw_fixture.py), checked mart by
mart.

dbt runs three times in all, because each run costs seconds on two cores:

1. the warehouse as after run r2 (two acme snapshots): models and seeds only, to start the daily history;
2. the full fixture (r3, a failed r4, and org beta): ``dbt build``, i.e. every model, data test and unit test;
3. the same day again after one raw change: only the two history models, which must replace that day.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.support.dbt_runner import run_dbt
from tests.support.raw_fixture import (
    ACME,
    BETA,
    EXPECTED_CANDIDATES,
    EXPECTED_INVITATIONS,
    EXPECTED_LIFECYCLE,
    JIRA,
    JSM,
    SITE,
    USERS,
    build_raw_warehouse,
)

# One worker builds the module's warehouse (three dbt runs) for every test here, not one per worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dbt_project")]

DAY_R2, DAY_R3 = date(2026, 3, 9), date(2026, 3, 10)


@dataclass
class Built:
    warehouse: Path
    build: Any  # dbt's RunExecutionResult
    daily_after_build: list[tuple]
    products_after_build: list[tuple]

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()


def _fetch(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


DAILY_SQL = (
    "select org_id, snapshot_date, account_id, lifecycle_status from marts.fct_user_status_daily order by all"
)
PRODUCTS_SQL = (
    "select org_id, snapshot_date, product_key, users_with_access "
    "from marts.agg_product_usage_daily order by all"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    work = tmp_path_factory.mktemp("dbt")
    warehouse = work / "warehouse.duckdb"

    build_raw_warehouse(warehouse, through_run="r2")
    run_dbt(
        warehouse, work, "build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"
    )

    build_raw_warehouse(warehouse)  # the next day's load, a failed run and a second org
    build = run_dbt(warehouse, work, "build")
    daily = _fetch(warehouse, DAILY_SQL)
    products = _fetch(warehouse, PRODUCTS_SQL)

    # Change something the as-of day depends on, then run that day again: its rows must be replaced.
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from raw.user_product_last_active where account_id = 'acc-jsm-agent'")
    run_dbt(  # RuntimeError if anything fails
        warehouse,
        work,
        "build",
        "--select",
        "+fct_user_status_daily",
        "+agg_product_usage_daily",
        "--exclude-resource-type",
        "test",
        "--exclude-resource-type",
        "unit_test",
    )
    yield Built(warehouse, build, daily, products)


def test_dbt_build_passes_every_model_data_test_and_unit_test(built: Built) -> None:
    # run_dbt raised if any node errored, failed or warned: here, that every kind of node ran at all.
    kinds = {result.node.resource_type for result in built.build.results}
    assert {"model", "seed", "test", "unit_test"} <= {str(kind) for kind in kinds}, kinds


def test_lifecycle_status_of_every_user(built: Built) -> None:
    rows = built.query("select org_id, account_id, lifecycle_status from marts.dim_users")
    assert {(org, account): status for org, account, status in rows} == EXPECTED_LIFECYCLE


def test_dim_users_details(built: Built) -> None:
    rows = built.query(
        """
        select account_id, email, platform_roles, is_org_admin, is_exempt, exempt_reason,
               removed_at is not null, invited_at is not null, days_since_last_active, product_access_count,
               as_of_date
        from marts.dim_users where org_id = ?
        """,
        [ACME],
    )
    by_account = {row[0]: row[1:] for row in rows}
    assert by_account["acc-active"][0] == "active@acme.example"  # the stale duplicate load lost
    assert by_account["acc-new-hire"][0] is None  # no email: null
    assert by_account["acc-org-admin"][1:5] == ("atlassian/org-admin", True, True, "org admin")
    assert by_account["acc-app-bot"][3:5] == (True, "account type app")
    assert by_account["acc-removed"][5] is True
    assert by_account["acc-readded"][5] is False
    assert by_account["acc-invite-fallback"][6] is True  # invited_at from added_to_org_at
    assert by_account["acc-edge-90"][7] == 90  # 91 days by the extraction date: the lag is honoured
    assert by_account["acc-never-used"][7] is None
    assert by_account["acc-labs"][8] == 2
    assert {row[10] for row in rows} == {date(2026, 3, 9)}


def test_reclaim_candidates_reasons_and_lanes(built: Built) -> None:
    rows = built.query(
        """
        select org_id, account_id, product_key, site_id, reclaim_reason, reclaim_lane
        from marts.fct_user_product_access where is_reclaim_candidate
        """
    )
    assert {row[:4]: row[4:] for row in rows} == EXPECTED_CANDIDATES
    lanes = {lane for _, lane in EXPECTED_CANDIDATES.values()}
    reasons = {reason for reason, _ in EXPECTED_CANDIDATES.values()}
    assert lanes == {"protected", "needs_review", "cleanup_ready"}
    assert reasons == {"inactive", "never_used", "invite_not_accepted"}


def test_access_rows_and_buckets(built: Built) -> None:
    rows = built.query(
        """
        select account_id, product_key, site_id, has_access, granting_group_names, activity_bucket, site_url,
               monthly_seat_price
        from marts.fct_user_product_access where org_id = ?
        """,
        [ACME],
    )
    by_key = {row[:3]: row[3:] for row in rows}
    # removed from the directory: no seat any more, but the past activity keeps a row
    assert by_key[("acc-removed", JIRA, SITE)][:2] == (False, None)
    # guests hold no seat and never used anything: no row at all
    assert not [key for key in by_key if key[0] == "acc-guest"]
    assert by_key[("acc-edge-90", JIRA, SITE)][2] == "61-90"
    assert by_key[("acc-edge-91", JIRA, SITE)][2] == "91-180"
    assert by_key[("acc-multi-product", JIRA, SITE)][2] == "181+"
    assert by_key[("acc-active", JIRA, SITE)][1:4] == ("jira-users", "0-30", "https://acme.atlassian.net")
    assert float(by_key[("acc-active", JIRA, SITE)][4]) == 7.53


def test_reclamation_plan_lists_groups_and_what_else_they_grant(built: Built) -> None:
    rows = built.query(
        """
        select org_id, account_id, product_key, site_id, reclaim_lane, groups_to_remove_from,
               other_products_granted_by_those_groups
        from marts.license_reclamation_plan
        """
    )
    not_protected = {key for key, (_, lane) in EXPECTED_CANDIDATES.items() if lane != "protected"}
    assert {row[:4] for row in rows} == not_protected
    by_account = {(row[0], row[1], row[2]): row[4:] for row in rows}
    assert by_account[(ACME, "acc-multi-product", JIRA)] == ("needs_review", "all-staff", "confluence")
    assert by_account[(ACME, "acc-direct", JSM)] == ("needs_review", None, None)
    assert by_account[(ACME, "acc-idle-jira", JIRA)] == ("cleanup_ready", "jira-users", None)


def test_invitations(built: Built) -> None:
    rows = built.query(
        "select org_id, account_id, invitation_status, invited_by_account_id, days_to_accept, days_pending "
        "from marts.fct_invitations"
    )
    assert {(org, account): status for org, account, status, *_ in rows} == EXPECTED_INVITATIONS
    by_account = {row[1]: row[3:] for row in rows}
    assert by_account["acc-accepted-today"] == ("acc-org-admin", 0, None)  # accepted on the as-of day
    assert by_account["acc-invite-old"] == ("acc-org-admin", None, 36)
    assert by_account["acc-invite-fallback"][0] is None


def test_audit_events_are_categorised(built: Built) -> None:
    rows = dict(built.query("select event_id, lifecycle_category from marts.fct_audit_events"))
    assert rows["e-04"] == "invited"  # the stale duplicate (action user_login) lost
    assert rows["e-08"] == "access_revoked"  # not in the seed: matched on its display name
    assert rows["e-10"] == "invited"
    assert rows["e-01"] == "other"
    assert len(rows) == 12


def test_pipeline_runs_and_as_of(built: Built) -> None:
    rows = built.query("select run_id, status, is_as_of_run, as_of_date from marts.pipeline_runs")
    by_run = {row[0]: row[1:] for row in rows}
    assert set(by_run) == {"r1", "r2", "r3", "r3-beta", "r4"}
    assert by_run["r4"][:2] == ("failed", False)  # newer than r3, but failed: not the as-of run
    assert by_run["r3"] == ("success", True, date(2026, 3, 9))
    assert by_run["r3-beta"] == ("success", True, date(2026, 3, 10))  # no lag for beta


def test_daily_history_has_one_snapshot_per_day_with_a_run(built: Built) -> None:
    days = {(org, day) for org, day, *_ in built.daily_after_build}
    assert days == {(ACME, DAY_R2), (ACME, DAY_R3), (BETA, DAY_R3)}
    status = {(org, day, account): s for org, day, account, s in built.daily_after_build}
    # absent from r2's listing (removed), listed again by r3 (active): history keeps both
    assert status[(ACME, DAY_R2, "acc-readded")] == "removed"
    assert status[(ACME, DAY_R3, "acc-readded")] == "active"
    assert status[(ACME, DAY_R2, "acc-removed")] == "active"
    assert status[(ACME, DAY_R3, "acc-removed")] == "removed"
    acme_users = {u.account_id for u in USERS if u.org_id == ACME}
    assert {
        account for org, day, account, _ in built.daily_after_build if day == DAY_R3 and org == ACME
    } == acme_users
    assert {(org, day) for org, day, *_ in built.products_after_build} == days


def test_rerunning_a_day_replaces_it(built: Built) -> None:
    daily = built.query(DAILY_SQL)
    assert len(daily) == len(built.daily_after_build)
    changed = {row for row in daily if row not in built.daily_after_build}
    # the only raw change: acc-jsm-agent's activity is gone, so on the re-run day they never were active
    assert changed == {(ACME, DAY_R3, "acc-jsm-agent", "never_active")}
    assert (ACME, DAY_R2, "acc-jsm-agent", "active") in daily  # the earlier day is untouched
    assert built.query(PRODUCTS_SQL) == built.products_after_build


def test_every_marts_table_and_column_has_a_comment(built: Built) -> None:
    columns = built.query(
        "select table_name, column_name, comment from duckdb_columns() where schema_name = 'marts'"
    )
    tables = built.query("select table_name, comment from duckdb_tables() where schema_name = 'marts'")
    assert {name for name, _ in tables} == {
        "dim_groups",
        "dim_users",
        "fct_user_product_access",
        "fct_invitations",
        "fct_user_status_daily",
        "agg_product_usage_daily",
        "fct_audit_events",
        "license_reclamation_plan",
        "pipeline_runs",
        "fct_seat_granting_groups",
        "reclaim_actions",
        "reclaim_notices",
    }
    assert [name for name, comment in tables if not (comment or "").strip()] == []
    assert [(t, c) for t, c, comment in columns if not (comment or "").strip()] == []


def test_duckdb_memory_limit_comes_from_the_var_else_the_default(built: Built, tmp_path: Path) -> None:
    def limit(**profile_vars: str) -> str:
        sql = "select current_setting('memory_limit') as memory_limit"
        shown = run_dbt(built.warehouse, tmp_path, "show", "--inline", sql, **profile_vars)
        return shown.results[0].agate_table.rows[0][0]

    assert limit() == "244.1 MiB"  # 256MB, the default of SEATWATCH_DUCKDB_MEMORY_LIMIT
    assert limit(duckdb_memory_limit="1GB") == "953.6 MiB"
