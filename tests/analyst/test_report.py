"""The HTML report, its place in every run, the docs site, and a clean analyst surface.

Every test reads the session's one demo run (``tests/conftest.py``); the browser checks skip without Chromium
(the ``chromium`` fixture), except under ``.ci/run``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from dagster import AssetKey, DagsterEventType, DagsterInstance

from benchmarks.report_in_browser import check_report
from pipeline.cli import main
from pipeline.commands.docs import serve
from pipeline.readers.report.charts import all_charts
from pipeline.readers.report.marts import read_report_data
from pipeline.readers.summary import build_summary
from pipeline.warehouse import connect
from tests.support.demo import DemoRun, reading

QUERIES = Path(__file__).resolve().parents[2] / "docs" / "queries"
# A tag that would make the browser fetch something: scripts, stylesheets, images, frames, CSS imports.
REMOTE_REFERENCE = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//"
    r"|@import|url\(\s*[\"']?https?:",
    re.IGNORECASE,
)

# The headline from the marts, written independently of the report's own queries.
HEADLINE_SQL = """
select
    sum(users_with_access), sum(active_users_30d), sum(active_users_90d), sum(inactive_users),
    sum(never_active_users), sum(est_monthly_reclaimable_cost),
    (select count(*) from marts.fct_invitations where invitation_status = 'pending')
from marts.agg_product_usage_daily
where snapshot_date = (select max(snapshot_date) from marts.agg_product_usage_daily)
"""
HEADLINE_KEYS = ["users_with_access", "active_users_30d", "active_users_90d", "inactive_users",
                 "never_active_users", "est_monthly_reclaimable_cost", "pending_invites"]  # fmt: skip


def _written(command: str, output: str, demo_run: DemoRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``seatwatch <command> --output <output>`` on the demo run, in a folder of its own."""
    path = tmp_path_factory.mktemp(command) / output
    with reading(demo_run):
        assert main([command, "--output", str(path)]) == 0
    return path


@pytest.fixture(scope="module")
def report(demo_run: DemoRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _written("report", "report.html", demo_run, tmp_path_factory)


def _headline(html: str) -> dict[str, float]:
    return {key: float(value) for key, value in re.findall(r'data-metric="(\w+)" data-value="([^"]+)"', html)}


def test_the_report_is_one_offline_file_under_10_mb(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    assert report.stat().st_size < 10_000_000
    assert REMOTE_REFERENCE.findall(html) == []
    # Self-contained: no script or stylesheet file of any kind next to it either.
    assert re.findall(r"<script\b[^>]*\bsrc=|<link\b[^>]*stylesheet", html, re.IGNORECASE) == []
    assert html.count('class="plotly-graph-div"') == 5


def test_headline_numbers_equal_the_marts(report: Path, published: Path) -> None:
    with connect(published, read_only=True) as con:
        expected = dict(
            zip(HEADLINE_KEYS, (float(v) for v in con.execute(HEADLINE_SQL).fetchone()), strict=True)
        )
    assert _headline(report.read_text(encoding="utf-8")) == expected
    summary = build_summary(published).to_dict()
    assert expected["est_monthly_reclaimable_cost"] == pytest.approx(summary["est_monthly_reclaimable_cost"])
    assert expected["pending_invites"] == summary["users_by_status"]["invited_pending"]


def test_every_chart_has_data_titles_and_axis_titles(published: Path) -> None:
    charts = all_charts(read_report_data(published))
    assert len(charts) == 5
    for chart_id, figure in charts:
        values = [v for trace in figure.data for v in (trace.y or ()) if v]
        assert values, f"{chart_id} has no data"
        assert figure.layout.title.text
        for axis in (figure.layout.xaxis, figure.layout.yaxis):
            assert axis.title.text, f"{chart_id} has an axis without a title"


def test_run_writes_the_report_beside_the_copy_and_dagster_links_it(demo_run: DemoRun) -> None:
    beside = demo_run.data_dir / "report.html"
    assert beside.exists() and _headline(beside.read_text(encoding="utf-8"))
    [run_id] = re.findall(r"^Dagster run (\S+);", demo_run.stdout, re.MULTILINE)
    with DagsterInstance.from_config(str(demo_run.dagster_home)) as instance:
        events = instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
    [published] = [e for e in events if e.dagster_event.asset_key == AssetKey("published_copy")]
    metadata = published.dagster_event.step_materialization_data.materialization.metadata
    assert Path(metadata["report"].value) == beside
    assert metadata["report_url"].value == beside.as_uri()


def test_report_for_one_org_and_for_an_unknown_one(
    published: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    with connect(published, read_only=True) as con:
        [org] = con.execute("select distinct org_id from marts.pipeline_runs").fetchone()
    assert main(["report", "--org", org, "--output", str(tmp_path / "one.html")]) == 0
    capsys.readouterr()
    assert main(["report", "--org", "no-such-org", "--output", str(tmp_path / "x.html")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no-such-org" in err and org in err
    assert not (tmp_path / "x.html").exists()


def test_chromium_renders_the_report_without_errors_or_requests(
    report: Path, tmp_path: Path, chromium: str
) -> None:
    screenshot = tmp_path / "report.png"
    result = check_report(report, screenshot, browser=chromium)
    assert result.console_errors == []
    assert result.network_requests == []
    assert [chart["id"] for chart in result.charts if chart["points"] and chart["svg"]] == [
        "seats-by-product", "usage-trend", "status-trend", "pending-invites", "reclaimable-cost",
    ]  # fmt: skip
    assert screenshot.read_bytes().startswith(b"\x89PNG")


def test_the_published_copy_holds_only_documented_marts(published: Path) -> None:
    with connect(published, read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name, comment from duckdb_tables() where not internal"
        ).fetchall()
        views = con.execute("select view_name from duckdb_views() where not internal").fetchall()
        undocumented = con.execute(
            "select table_name, column_name from duckdb_columns()"
            " where not internal and coalesce(comment, '') = ''"
        ).fetchall()
        zoned = con.execute(
            "select table_name, column_name from duckdb_columns()"
            " where not internal and data_type = 'TIMESTAMP WITH TIME ZONE'"
        ).fetchall()
    assert {schema for schema, _, _ in tables} == {"marts"} and views == []
    assert [table for _, table, comment in tables if not comment] == []
    assert undocumented == [] and zoned == []
    assert "dim_groups" in {table for _, table, _ in tables}


def test_a_bare_duckdb_client_reads_every_table_and_query_without_pytz(published: Path) -> None:
    script = f"""
import sys
sys.modules["pytz"] = None  # what a bare `pip install duckdb` has
import duckdb
con = duckdb.connect({str(published)!r}, read_only=True)
for (table,) in con.execute("select table_name from duckdb_tables()").fetchall():
    con.execute(f"select * from marts.{{table}}").fetchall()
for query in sorted(__import__("pathlib").Path({str(QUERIES)!r}).glob("*.sql")):
    con.execute(query.read_text()).fetchall()
"""
    result = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.fixture(scope="module")
def docs_site(demo_run: DemoRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _written("docs", "site", demo_run, tmp_path_factory)


def test_docs_output_is_a_static_site_that_opens_offline(docs_site: Path) -> None:
    html = (docs_site / "index.html").read_text(encoding="utf-8")
    assert REMOTE_REFERENCE.findall(html) == []
    # dbt's page loads a tracker from a CDN only when the manifest says usage stats are on.
    assert '"send_anonymous_usage_stats": false' in html
    assert "model.seatwatch.dim_groups" in html and "Members of the group in the latest snapshot." in html
    assert "schema only; every table and column there" in html  # our overview page, not dbt's welcome


def test_chromium_opens_the_docs_site_without_a_request(docs_site: Path, chromium: str) -> None:
    assert check_report(docs_site / "index.html", browser=chromium).network_requests == []


def test_docs_are_served_on_loopback(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<html>docs</html>", encoding="utf-8")
    with serve(tmp_path, 0) as server:
        host, port = server.server_address[:2]
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/index.html", timeout=10)
        finally:
            server.shutdown()
    assert host == "127.0.0.1" and response.text == "<html>docs</html>"
