"""The report as one HTML file: Plotly's JavaScript inlined once, every chart and table in the page.

Nothing is fetched at view time (no CDN, no web fonts), so the file can be mailed, archived or opened on a
machine without a network; it is written to a temporary name and renamed, like the published copy.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import plotly.io
import plotly.offline

from pipeline.config.errors import ConfigurationError
from pipeline.readers.report.charts import LANE_NAMES, all_charts
from pipeline.readers.report.marts import ReportData, read_report_data

REPORT_NAME = "report.html"
PLOTLY_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}
MAX_INVITE_ROWS = 25

# (metric key in ReportData.totals, label, hint): the headline cards, in reading order.
HEADLINE = [
    ("users_with_access", "Seats held", "people holding a product seat, summed over products"),
    ("active_users_30d", "Active in 30 days", "seat holders active in the product in the last 30 days"),
    ("active_users_90d", "Active in 90 days", "seat holders active in the product in the last 90 days"),
    ("inactive_users", "Idle", "active before, but not within the product's inactivity threshold"),
    ("never_active_users", "Never used", "seat holders never active in the product"),
    ("pending_invites", "Pending invites", "invited, never active since"),
    ("est_monthly_reclaimable_cost", "Reclaimable per month", "cleanup-ready and needs-review seats, USD"),
]

CSS = """
:root { --ink: #1f2328; --muted: #57606a; --line: #d0d7de; --panel: #f6f8fa; --accent: #0072B2; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
       sans-serif; color: var(--ink); background: #fff; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 32px 48px; }
header { border-bottom: 3px solid var(--accent); padding-bottom: 12px; margin-bottom: 20px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 34px 0 6px; }
.sub, .note { color: var(--muted); margin: 2px 0; }
.note { font-size: 13px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 12px;
        margin: 16px 0; }
.kpi { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.kpi .value { font-size: 24px; font-weight: 650; font-variant-numeric: tabular-nums; white-space: nowrap; }
.kpi.money .value { font-size: 22px; }
.kpi .label { font-weight: 600; }
.kpi .hint { color: var(--muted); font-size: 12px; line-height: 1.3; }
.kpi.money { border-color: #009E73; background: #eef8f4; }
.chart { border: 1px solid var(--line); border-radius: 8px; padding: 6px; margin: 10px 0; }
table { border-collapse: collapse; width: 100%; margin: 10px 0; font-size: 13px; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--panel); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
dl.fresh { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 10px 0; }
dl.fresh dt { color: var(--muted); }
dl.fresh dd { margin: 0; font-variant-numeric: tabular-nums; }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line);
         padding-top: 8px; }
@page { size: A4; margin: 12mm; }
@media print {
  body { font-size: 12px; }
  main { max-width: none; padding: 0; }
  table { font-size: 10px; }
  th, td { padding: 3px 4px; }
  .modebar-container { display: none !important; }
  section, .chart, table, .kpis { break-inside: avoid; }
  h2 { break-after: avoid; }
  .kpi, .chart { border-color: #999; }
}
"""

# Plotly sizes charts to the window; paper is narrower, so charts are re-laid out for printing and back.
PRINT_SCRIPT = """
(function () {
  function plots() { return Array.prototype.slice.call(document.querySelectorAll('.js-plotly-plot')); }
  window.addEventListener('beforeprint', function () {
    plots().forEach(function (el) { Plotly.relayout(el, {width: 690}); });
  });
  window.addEventListener('afterprint', function () {
    plots().forEach(function (el) { Plotly.relayout(el, {width: null, autosize: true}); });
  });
})();
"""


def report_path_beside(published: Path) -> Path:
    """Where ``seatwatch run`` writes the report: next to the published copy it was built from."""
    return published.with_name(REPORT_NAME)


def _number(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"


def _money(value: float) -> str:
    return f"${value:,.2f}"


def _utc(moment: datetime | None) -> str:
    return "–" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def _cell(tag: str, value: Any, numeric: bool) -> str:
    text = value if isinstance(value, str) else _number(value)
    return f"<{tag}{' class=num' if numeric else ''}>{escape(text)}</{tag}>"


def _table(headers: list[str], rows: list[list[Any]], numeric: set[int]) -> str:
    head = "".join(_cell("th", h, i in numeric) for i, h in enumerate(headers))
    cells = ("".join(_cell("td", cell, i in numeric) for i, cell in enumerate(row)) for row in rows)
    body = "".join(f"<tr>{row}</tr>" for row in cells)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _kpis(data: ReportData) -> str:
    cards = []
    for key, label, hint in HEADLINE:
        value = data.totals[key]
        money = key == "est_monthly_reclaimable_cost"
        shown = _money(value) if money else _number(int(value))
        cards.append(
            f'<div class="kpi{" money" if money else ""}" data-metric="{key}" data-value="{value}">'
            f'<div class="label">{escape(label)}</div><div class="value">{shown}</div>'
            f'<div class="hint">{escape(hint)}</div></div>'
        )
    return f'<div class="kpis">{"".join(cards)}</div>'


def _products_table(data: ReportData) -> str:
    headers = ["product", "licensed", "seats held", "active 30d", "active 90d", "idle", "never used",
               "invite pending", "cleanup-ready", "needs review", "protected", "USD / month"]  # fmt: skip
    rows = [
        [p["product_key"], p["seat_capacity"], p["users_with_access"], p["active_users_30d"],
         p["active_users_90d"], p["inactive_users"], p["never_active_users"], p["invited_pending_users"],
         p["cleanup_ready_candidates"], p["needs_review_candidates"], p["protected_candidates"],
         _money(p["est_monthly_reclaimable_cost"])]
        for p in data.products
    ]  # fmt: skip
    return _table(headers, rows, set(range(1, len(headers))))


def _invites_table(data: ReportData) -> str:
    rows = [
        [row["invitee"], row["email"] or "–", f"{row['invited_at']:%Y-%m-%d}", row["days_pending"],
         row["invited_by"] or "unknown (before the audit log)"]
        for row in data.pending_invites[:MAX_INVITE_ROWS]
    ]  # fmt: skip
    more = len(data.pending_invites) - len(rows)
    note = (
        f'<p class="note">The {len(rows)} oldest of {len(data.pending_invites)} are listed.</p>'
        if more
        else ""
    )
    return _table(["invitee", "email", "invited", "days pending", "invited by"], rows, {3}) + note


def _cost_table(data: ReportData) -> str:
    rows = [
        [row["product_key"], LANE_NAMES.get(row["reclaim_lane"], row["reclaim_lane"]), row["seats"],
         _money(row["monthly_cost"])]
        for row in data.cost_by_lane
    ]  # fmt: skip
    return _table(["product", "lane", "seats", "USD / month"], rows, {2, 3})


def _groups_table(data: ReportData) -> str:
    if not data.multi_product_groups:
        return '<p class="note">No group grants more than one product.</p>'
    rows = [
        [row["group_name"], row["granted_product_keys"], row["products_granted"], row["member_count"],
         "yes" if row["is_external_synced"] else "no"]
        for row in data.multi_product_groups
    ]  # fmt: skip
    return _table(["group", "products granted", "products", "members", "synced from an IdP"], rows, {2, 3})


def _freshness(data: ReportData, published: Path, generated_at: datetime) -> str:
    fresh = data.freshness
    items = [
        ("As-of date", str(fresh.as_of_date)),
        ("Activity complete through", _utc(fresh.activity_complete_through)),
        ("API snapshot taken", f"{_utc(fresh.extracted_at)} (API clock)"),
        ("Activity lag allowed for", f"{fresh.activity_lag_hours:g} hours"),
        ("Last successful run finished", _utc(fresh.last_success_at)),
        ("API calls in that run", f"{fresh.api_calls:,} ({fresh.api_retries:,} retried, "
                                  f"{fresh.api_rate_limited:,} rate-limited)"),
        ("Run id", fresh.run_ids),
        ("Built from", f"{published.name} (the published marts)"),
        ("Report generated", _utc(generated_at)),
    ]  # fmt: skip
    return (
        '<dl class="fresh">'
        + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in items)
        + "</dl>"
    )


_FUNNEL_STEPS = (
    ("noticed", "Noticed", "a notice was sent to the holder"),
    ("kept", "Kept by using it", "the holder used the product before the removal date"),
    ("removed", "Removed", "still idle after the notice period: removed through reclaim apply"),
    ("restored", "Restored", "removed, then put back with seatwatch reclaim undo"),
)


def _funnel(data: ReportData) -> str:
    funnel = data.notice_funnel
    if not funnel.get("noticed"):
        return (
            '<p class="note">No notices yet: the reclaim policy is off (SEATWATCH_RECLAIM_POLICY) or has '
            "not noticed anyone. seatwatch reclaim policy shows what it would do.</p>"
        )
    top = funnel["noticed"]
    rows = [
        [name, funnel.get(key, 0), f"{funnel.get(key, 0) / top:.0%}", meaning]
        for key, name, meaning in _FUNNEL_STEPS
    ]
    return _table(["step", "seats", "of noticed", "meaning"], rows, {1, 2})


def render_report(data: ReportData, published: Path, generated_at: datetime | None = None) -> str:
    generated_at = generated_at or datetime.now(UTC)
    charts = {}
    for chart_id, figure in all_charts(data):
        charts[chart_id] = plotly.io.to_html(
            figure, full_html=False, include_plotlyjs=False, div_id=chart_id, config=PLOTLY_CONFIG,
            default_width="100%", default_height=f"{figure.layout.height}px",
        )  # fmt: skip
    fresh = data.freshness
    orgs = ", ".join(data.orgs)
    title = f"Seatwatch seat report, as of {fresh.as_of_date}"
    body = f"""
<main>
<header>
  <h1>Who uses the Atlassian seats you pay for</h1>
  <p class="sub">Org {escape(orgs)} · as of <strong>{fresh.as_of_date}</strong> · activity complete through
    {_utc(fresh.activity_complete_through)} ({fresh.activity_lag_hours:g} h API lag) · generated
    {_utc(generated_at)}</p>
</header>
<section id="headline">
  <h2>Headline</h2>
  <p class="note">People are counted once per product; every "days" figure is counted back from the as-of
    date, never from today, so yesterday's work the API has not reported yet never makes anyone idle.</p>
  {_kpis(data)}
  <div class="chart">{charts["seats-by-product"]}</div>
  {_products_table(data)}
</section>
<section id="trend">
  <h2>Daily trend</h2>
  <p class="note">One point per day with a successful run. The dotted line marks the as-of date; the
    shaded band is the API's activity lag: activity in it is not reported yet.</p>
  <div class="chart">{charts["usage-trend"]}</div>
  <div class="chart">{charts["status-trend"]}</div>
</section>
<section id="invites">
  <h2>Pending invites</h2>
  <p class="note">Invited and never active in any product since. Invites older than the audit log's 180
    days show no inviter.</p>
  <div class="chart">{charts["pending-invites"]}</div>
  {_invites_table(data)}
</section>
<section id="reclaim">
  <h2>Reclaimable cost</h2>
  <p class="note">Cleanup-ready: removing the user from the listed groups frees exactly this seat.
    Needs review: a granting group also grants other products, or the access is direct. Protected seats
    (admins, apps, exempt accounts) are never counted.</p>
  <div class="chart">{charts["reclaimable-cost"]}</div>
  {_cost_table(data)}
  <h2>Notice funnel</h2>
  <p class="note">The reclaim policy's notices (marts.reclaim_notices, as of the previous run's policy
    step): noticed, kept by using the product, removed after the notice period, restored by undo.</p>
  {_funnel(data)}
  <h2>Groups that grant several products</h2>
  <p class="note">Removing someone from these groups takes away every product listed, which is why their
    members' candidate seats need review.</p>
  {_groups_table(data)}
</section>
<section id="freshness">
  <h2>Data freshness</h2>
  {_freshness(data, published, generated_at)}
</section>
<footer>Seatwatch · every figure is read from the marts of {escape(published.name)}; the marts and their
  columns are documented by <code>seatwatch docs</code>.</footer>
</main>"""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{CSS}</style>
<script>{plotly.offline.get_plotlyjs()}</script>
</head>
<body>{body}
<script>{PRINT_SCRIPT}</script>
</body>
</html>
"""


def write_report(published: Path, output: Path, org: str | None = None) -> Path:
    """Write the report for ``org`` (every org when None) from ``published`` to ``output``, atomically."""
    if not output.parent.is_dir():
        raise ConfigurationError(f"Cannot write {output}: the folder {output.parent} does not exist.")
    html = render_report(read_report_data(published, org), published)
    tmp = output.with_name(f".{output.name}.tmp")
    try:
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(output)  # atomic on POSIX: a reader sees the old report or the new one
    finally:
        tmp.unlink(missing_ok=True)
    return output
