"""Issue acceptance: the summary, the CSV exports, status, and every ready-made query."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.readers.summary import build_summary
from pipeline.warehouse import connect
from tests.support.demo import DemoRun

QUERIES = sorted((Path(__file__).resolve().parents[2] / "docs" / "queries").glob("*.sql"))
PRODUCTS = ("confluence", "jira", "jira-service-management")


def test_the_summary_counts_users_and_products(demo_run: DemoRun, published: Path) -> None:
    summary = build_summary(published).to_dict()
    assert sum(summary["users_by_status"].values()) == 500
    assert summary["users_by_status"]["invited_pending"] > 0
    assert sorted(product["product_key"] for product in summary["products"]) == list(PRODUCTS)
    assert summary["est_monthly_reclaimable_cost"] > 0
    assert summary["as_of_date"] and summary["activity_lag_hours"] == 24
    assert json.loads(json.dumps(summary)) == summary  # what `seatwatch run --json` prints, less the run id
    # What the run printed is that summary, every status with its count, and no check failed (exit 0).
    out = demo_run.stdout
    assert f"As of {summary['as_of_date']} (activity complete through the as-of date; API lag 24 h)." in out
    for status, count in summary["users_by_status"].items():
        assert re.search(rf"^  {status} +{count:,}$", out, re.MULTILINE), status
    assert f"Estimated monthly reclaimable cost: {summary['est_monthly_reclaimable_cost']:,.2f} " in out


def test_the_summary_per_product_equals_the_usage_mart_for_the_as_of_day(published: Path) -> None:
    summary = build_summary(published).to_dict()
    with connect(published, read_only=True) as con:
        rows = con.execute(
            """
            select product_key, users_with_access, active_users_30d, active_users_90d, inactive_users,
                   never_active_users, invited_pending_users, cleanup_ready_candidates,
                   needs_review_candidates, protected_candidates, est_monthly_reclaimable_cost::double
            from marts.agg_product_usage_daily
            where as_of_date = ?::date
            order by product_key
            """,
            [summary["as_of_date"]],
        ).fetchall()
    columns = [
        "product_key", "seats", "active_30d", "active_90d", "inactive", "never_used", "invited_pending",
        "cleanup_ready", "needs_review", "protected", "est_monthly_reclaimable_cost",
    ]  # fmt: skip
    assert [dict(zip(columns, row, strict=True)) for row in rows] == summary["products"]


def test_users_export_shows_invited_users_as_invited(published: Path, tmp_path: Path) -> None:
    output = tmp_path / "users.csv"
    assert main(["export", "users", "--output", str(output)]) == 0
    with output.open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    header = list(rows[0])
    assert header[:8] == [
        "org_id",
        "account_id",
        "name",
        "email",
        "status",
        "invited_at",
        "added_to_org",
        "last_active",
    ]
    assert header[8:] == [f"{p} {suffix}" for p in PRODUCTS for suffix in ("access", "last active")]
    with connect(published, read_only=True) as con:
        pending = {row[0] for row in con.execute(
            "select account_id from marts.dim_users where lifecycle_status = 'invited_pending'"
        ).fetchall()}  # fmt: skip
    by_id = {row["account_id"]: row for row in rows}
    assert len(rows) == 500 and pending
    for account_id in pending:
        assert by_id[account_id]["status"] == "Invited"
        assert all(by_id[account_id][f"{p} last active"] == "" for p in PRODUCTS)
    assert {row["status"] for row in rows} >= {"Active", "Invited", "Inactive", "Never active", "Suspended"}
    assert all(row[f"{p} access"] in {"Yes", "No"} for row in rows for p in PRODUCTS)


def test_plan_export_and_a_bad_output_path(
    published: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    plan = tmp_path / "plan.csv"
    assert main(["export", "plan", "--output", str(plan)]) == 0
    with plan.open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert rows and {row["reclaim_lane"] for row in rows} <= {"cleanup_ready", "needs_review"}
    capsys.readouterr()
    assert main(["export", "users", "--output", str(tmp_path / "missing" / "users.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "does not exist" in err
    assert not (tmp_path / "missing").exists()


def test_users_export_to_standard_output(published: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["export", "users", "-o", "-", "--excel"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("\ufefforg_id,account_id,")
    rows = list(csv.DictReader(io.StringIO(out.removeprefix("\ufeff"))))
    assert len(rows) == 500 and {row["org_id"] for row in rows} == {rows[0]["org_id"]}
    assert err == "Wrote 500 rows to standard output\n"


def test_status_says_the_published_copy_is_current(published: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "(from the latest successful run)" in out and "OK:" in out
    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["healthy"] and status["published"]["from_latest_successful_run"]
    assert status["runs"][0]["outcome"] == "succeeded" and status["runs"][0]["trigger"] == "CLI"
    assert [org["stale"] for org in status["orgs"]] == [False]


@pytest.mark.parametrize("query", QUERIES, ids=[path.stem for path in QUERIES])
def test_every_ready_made_query_returns_rows(published: Path, query: Path) -> None:
    with connect(published, read_only=True) as con:
        rows = con.execute(query.read_text(encoding="utf-8")).fetchall()
    assert rows, f"{query.name} returned no rows on the demo org"


def test_there_are_at_least_ten_queries() -> None:
    assert len(QUERIES) >= 10
