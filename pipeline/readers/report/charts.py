"""The report's charts (Plotly figures), each with a title, axis titles with units, and colours from the
Okabe-Ito palette, which stays distinguishable for the common forms of colour blindness."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from pipeline.readers.report.marts import ReportData

# Okabe & Ito (2008), "Color Universal Design".
BLUE, SKY, GREEN, ORANGE, VERMILION, PURPLE, YELLOW, BLACK = (
    "#0072B2", "#56B4E9", "#009E73", "#E69F00", "#D55E00", "#CC79A7", "#F0E442", "#000000",
)  # fmt: skip
GREY = "#8C8C8C"
CATEGORICAL = [BLUE, ORANGE, GREEN, VERMILION, SKY, PURPLE, YELLOW, BLACK]
LANE_COLOURS = {"cleanup_ready": GREEN, "needs_review": ORANGE}
LANE_NAMES = {"cleanup_ready": "Cleanup-ready", "needs_review": "Needs review"}
STATUS_COLOURS = {
    "active": BLUE,
    "inactive": ORANGE,
    "invited_pending": PURPLE,
    "never_active": SKY,
    "suspended": VERMILION,
    "deactivated": GREY,
    "not_invited": YELLOW,
    "closed": BLACK,
    "removed": "#D9D9D9",
}
INVITE_AGE_BUCKETS = [(0, 7), (8, 14), (15, 30), (31, 60), (61, 90), (91, None)]
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


def _layout(fig: go.Figure, title: str, *, height: int = 380) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 16}},
        template="plotly_white",
        font={"family": FONT, "size": 12, "color": "#222"},
        height=height,
        margin={"l": 64, "r": 24, "t": 56, "b": 40},
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "xanchor": "left", "x": 0},
        hoverlabel={"font": {"family": FONT}},
    )
    return fig


def seats_by_product(data: ReportData) -> go.Figure:
    products = [p["product_key"] for p in data.products]
    series = [
        ("users_with_access", "Seats held", BLUE),
        ("active_users_30d", "Active in 30 days", GREEN),
        ("active_users_90d", "Active in 90 days", SKY),
        ("inactive_users", "Idle (past the inactivity threshold)", ORANGE),
        ("never_active_users", "Never used", VERMILION),
        ("invited_pending_users", "Invite pending", PURPLE),
    ]
    fig = go.Figure()
    capacity = [p["seat_capacity"] for p in data.products]
    if any(value is not None for value in capacity):  # the API may have no licence data
        fig.add_bar(
            name="Licensed seats", x=products, y=capacity, text=capacity, textposition="outside",
            marker={"color": "#FFFFFF", "line": {"color": BLACK, "width": 1.5}},
            hovertemplate="%{x}<br>Licensed seats: %{y:,}<extra></extra>",
        )  # fmt: skip
    for key, name, colour in series:
        values = [p[key] for p in data.products]
        fig.add_bar(
            name=name, x=products, y=values, marker_color=colour, text=values, textposition="outside",
            hovertemplate=f"%{{x}}<br>{name}: %{{y:,}} people<extra></extra>",
        )  # fmt: skip
    fig.update_layout(barmode="group", bargap=0.2)
    fig.update_xaxes(title_text="Product")
    fig.update_yaxes(title_text="People (seats)", rangemode="tozero")
    return _layout(fig, f"Seats and activity by product, as of {data.freshness.as_of_date}", height=440)


def usage_trend(data: ReportData) -> go.Figure:
    products = sorted({row["product_key"] for row in data.usage_trend})
    fig = make_subplots(rows=1, cols=len(products), subplot_titles=products, shared_yaxes=True)
    series = [
        ("users_with_access", "Seats held", BLUE, "solid"),
        ("active_users_90d", "Active in 90 days", SKY, "solid"),
        ("active_users_30d", "Active in 30 days", GREEN, "solid"),
        ("seat_capacity", "Licensed seats", BLACK, "dash"),
    ]
    for col, product in enumerate(products, start=1):
        rows = [row for row in data.usage_trend if row["product_key"] == product]
        days = [row["as_of_date"] for row in rows]
        for key, name, colour, dash in series:
            values = [row[key] for row in rows]
            if all(value is None for value in values):
                continue
            fig.add_scatter(
                x=days, y=values, name=name, legendgroup=name, showlegend=col == 1,
                mode="lines+markers", line={"color": colour, "dash": dash, "width": 2}, marker={"size": 7},
                hovertemplate=f"{product}<br>as of %{{x|%Y-%m-%d}}<br>{name}: %{{y:,}}<extra></extra>",
                row=1, col=col,
            )  # fmt: skip
    fresh = data.freshness
    # The last point is as of the day activity is complete through; the band after it is what the API
    # has not reported yet (the activity lag), which is why the newest day is never called idle.
    fig.add_vrect(
        x0=fresh.activity_complete_through, x1=fresh.extracted_at, row="all", col="all",
        fillcolor=GREY, opacity=0.18, line_width=0, layer="below",
    )  # fmt: skip
    for col in range(1, len(products) + 1):
        fig.add_vline(
            x=_midnight(fresh.as_of_date),
            line={"color": VERMILION, "dash": "dot", "width": 1.5},
            row=1,
            col=col,
        )
        axis = "x" if col == 1 else f"x{col}"
        fig.add_annotation(
            x=_midnight(fresh.as_of_date), y=0.99, xref=axis, yref="paper", xanchor="right", yanchor="top",
            showarrow=False, text=f"as of {fresh.as_of_date:%b %d}", font={"color": VERMILION, "size": 10},
        )  # fmt: skip
        fig.add_annotation(  # at the foot of the band, clear of the as-of label however narrow the band
            x=fresh.extracted_at, y=0.01, xref=axis, yref="paper", xanchor="right", yanchor="bottom",
            showarrow=False, text=f"{fresh.activity_lag_hours:g} h lag", font={"color": "#444", "size": 10},
        )  # fmt: skip
    first = min(row["as_of_date"] for row in data.usage_trend)
    start, end = _midnight(first) - timedelta(days=1), fresh.extracted_at + timedelta(hours=6)
    fig.update_xaxes(
        type="date", range=[start, end], title_text="As-of date (UTC)", tickformat="%b %d",
        dtick=86_400_000 * max(1, round((end - start).days / 4)), tickangle=0,  # ~4 whole days a panel
    )  # fmt: skip
    fig.update_yaxes(rangemode="tozero")
    fig.update_yaxes(title_text="People", row=1, col=1)
    days = len({row["as_of_date"] for row in data.usage_trend})
    return _layout(
        fig,
        f"Daily trend per product: seats held and active users ({days} day{'s' * (days != 1)} of history)",
    )


def status_trend(data: ReportData) -> go.Figure:
    fig = go.Figure()
    days = sorted({row["as_of_date"] for row in data.status_trend})
    by_status: dict[str, dict] = defaultdict(dict)
    for row in data.status_trend:
        by_status[row["lifecycle_status"]][row["as_of_date"]] = row["users"]
    order = [status for status in STATUS_COLOURS if status in by_status] + sorted(
        set(by_status) - set(STATUS_COLOURS)
    )
    for index, status in enumerate(order):
        fig.add_bar(
            name=status.replace("_", " "), x=days, y=[by_status[status].get(day, 0) for day in days],
            marker_color=STATUS_COLOURS.get(status, CATEGORICAL[index % len(CATEGORICAL)]),
            hovertemplate=f"as of %{{x|%Y-%m-%d}}<br>{status}: %{{y:,}} users<extra></extra>",
        )  # fmt: skip
    fig.update_layout(barmode="stack", bargap=0.3)
    fig.update_xaxes(type="date", title_text="As-of date (UTC)", tickformat="%b %d")
    fig.update_yaxes(title_text="Users")
    return _layout(fig, "Users by lifecycle status, per day")


def _bucket_label(low: int, high: int | None) -> str:
    return f"{low}–{high} days" if high is not None else f"over {low - 1} days"


def _age_bucket(days: int | None) -> str:
    for low, high in INVITE_AGE_BUCKETS:
        if high is None or (days or 0) <= high:
            return _bucket_label(low, high)
    raise AssertionError("unreachable: the last bucket is open-ended")


def pending_invites_by_age(data: ReportData, *, top_inviters: int = 6) -> go.Figure:
    unknown = "unknown (before the audit log)"
    inviters = Counter(row["invited_by"] or unknown for row in data.pending_invites)
    shown = [name for name, _ in inviters.most_common(top_inviters)]
    labels = [_bucket_label(low, high) for low, high in INVITE_AGE_BUCKETS]
    counts: dict[str, Counter] = defaultdict(Counter)
    for row in data.pending_invites:
        inviter = row["invited_by"] or unknown
        counts[inviter if inviter in shown else "others"][_age_bucket(row["days_pending"])] += 1
    fig = go.Figure()
    names = [name for name in shown if name != unknown] + [n for n in ("others", unknown) if n in counts]
    for index, name in enumerate(names):
        fig.add_bar(
            name=name, x=labels, y=[counts[name][label] for label in labels],
            marker_color=GREY if name == unknown else CATEGORICAL[index % len(CATEGORICAL)],
            hovertemplate=f"pending %{{x}}<br>invited by {name}: %{{y}}<extra></extra>",
        )  # fmt: skip
    fig.update_layout(barmode="stack", bargap=0.3, legend={"title": {"text": "Invited by "}})
    fig.update_xaxes(
        title_text="Days since the invite (as-of date)", categoryorder="array", categoryarray=labels
    )
    fig.update_yaxes(title_text="Pending invites", dtick=1 if len(data.pending_invites) < 15 else None)
    return _layout(
        fig, f"Pending invites by age and inviter ({len(data.pending_invites)} pending)", height=420
    )


def reclaimable_cost(data: ReportData) -> go.Figure:
    products = sorted(
        {row["product_key"] for row in data.cost_by_lane} | {p["product_key"] for p in data.products}
    )
    fig = go.Figure()
    for lane, colour in LANE_COLOURS.items():
        rows = {row["product_key"]: row for row in data.cost_by_lane if row["reclaim_lane"] == lane}
        costs = [rows[p]["monthly_cost"] if p in rows else 0 for p in products]
        seats = [rows[p]["seats"] if p in rows else 0 for p in products]
        fig.add_bar(
            name=LANE_NAMES[lane], x=products, y=costs, marker_color=colour, customdata=seats,
            text=[f"${cost:,.0f}" if cost else "" for cost in costs], textposition="inside",
            hovertemplate=(
                f"%{{x}}<br>{LANE_NAMES[lane]}: %{{y:$,.2f}} a month<br>%{{customdata}} seats<extra></extra>"
            ),
        )  # fmt: skip
    fig.update_layout(barmode="stack", bargap=0.35)
    fig.update_xaxes(title_text="Product")
    fig.update_yaxes(title_text="Reclaimable cost (USD per month)", tickprefix="$", separatethousands=True)
    total = data.totals["est_monthly_reclaimable_cost"]
    return _layout(fig, f"Monthly reclaimable cost by product and lane (total ${total:,.2f})")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def all_charts(data: ReportData) -> list[tuple[str, go.Figure]]:
    return [
        ("seats-by-product", seats_by_product(data)),
        ("usage-trend", usage_trend(data)),
        ("status-trend", status_trend(data)),
        ("pending-invites", pending_invites_by_age(data)),
        ("reclaimable-cost", reclaimable_cost(data)),
    ]
