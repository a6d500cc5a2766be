"""What a person reads after a run: users by lifecycle status, seats per product, reclaimable cost.

Computed from the published copy's marts, so it shows exactly what analysts and BI tools will see.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipeline.warehouse import connect

_PRODUCT_SQL = """
with access as (
    select a.*, u.lifecycle_status
    from marts.fct_user_product_access as a
    inner join marts.dim_users as u using (org_id, account_id)
)
select
    product_key,
    count(*) filter (where has_access) as seats,
    count(*) filter (where has_access and days_since_last_active <= 30) as active_30d,
    count(*) filter (where has_access and days_since_last_active <= 90) as active_90d,
    count(*) filter (where has_access and is_inactive) as inactive,
    count(*) filter (where has_access and activity_bucket = 'never') as never_used,
    count(*) filter (where has_access and lifecycle_status = 'invited_pending') as invited_pending,
    count(*) filter (where is_reclaim_candidate and reclaim_lane = 'cleanup_ready') as cleanup_ready,
    count(*) filter (where is_reclaim_candidate and reclaim_lane = 'needs_review') as needs_review,
    count(*) filter (where is_reclaim_candidate and reclaim_lane = 'protected') as protected,
    coalesce(sum(monthly_seat_price) filter (
        where is_reclaim_candidate and reclaim_lane <> 'protected'), 0) as est_monthly_reclaimable_cost
from access
group by product_key
order by product_key
"""


@dataclass
class ProductSummary:
    product_key: str
    seats: int
    active_30d: int
    active_90d: int
    inactive: int
    never_used: int
    invited_pending: int
    cleanup_ready: int
    needs_review: int
    protected: int
    est_monthly_reclaimable_cost: float


@dataclass
class RunSummary:
    published_path: str
    as_of_date: str | None
    activity_lag_hours: float | None
    users_by_status: dict[str, int] = field(default_factory=dict)
    products: list[ProductSummary] = field(default_factory=list)
    currency: str = "USD"

    @property
    def est_monthly_reclaimable_cost(self) -> float:
        return round(sum(p.est_monthly_reclaimable_cost for p in self.products), 2)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["est_monthly_reclaimable_cost"] = self.est_monthly_reclaimable_cost
        return data


def build_summary(published: Path) -> RunSummary:
    with connect(published, read_only=True) as con:
        as_of, lag = con.execute(
            """
            select max(as_of_date)::varchar,
                   max(epoch(extracted_at) - epoch(activity_complete_through)) / 3600.0
            from marts.pipeline_runs
            """
        ).fetchone()
        statuses = con.execute(
            "select lifecycle_status, count(*) from marts.dim_users group by 1 order by 2 desc"
        ).fetchall()
        products = [ProductSummary(*row) for row in con.execute(_PRODUCT_SQL).fetchall()]
    for product in products:
        product.est_monthly_reclaimable_cost = round(float(product.est_monthly_reclaimable_cost), 2)
    return RunSummary(
        published_path=str(published),
        as_of_date=as_of,
        activity_lag_hours=None if lag is None else round(float(lag), 2),
        users_by_status=dict(statuses),
        products=products,
    )


def format_summary(summary: RunSummary) -> str:
    lines = [
        f"As of {summary.as_of_date} (activity complete through the as-of date; API lag "
        f"{summary.activity_lag_hours:g} h)."
        if summary.activity_lag_hours is not None
        else f"As of {summary.as_of_date}.",
        "",
        "Users by lifecycle status:",
    ]
    width = max((len(status) for status in summary.users_by_status), default=0)
    lines += [f"  {status:<{width}}  {count:>7,}" for status, count in summary.users_by_status.items()]
    header = (
        f"  {'product':<20} {'seats':>7} {'act30d':>7} {'act90d':>7} {'inactive':>8} {'never':>7} "
        f"{'invited':>7} {'ready':>6} {'review':>6} {'protect':>7} {'$/month':>10}"
    )
    lines += ["", "Seats per product (reclaim candidates: ready / review / protected):", header]
    for p in summary.products:
        lines.append(
            f"  {p.product_key:<20} {p.seats:>7,} {p.active_30d:>7,} {p.active_90d:>7,} {p.inactive:>8,} "
            f"{p.never_used:>7,} {p.invited_pending:>7,} {p.cleanup_ready:>6,} {p.needs_review:>6,} "
            f"{p.protected:>7,} {p.est_monthly_reclaimable_cost:>10,.2f}"
        )
    lines += [
        "",
        f"Estimated monthly reclaimable cost: {summary.est_monthly_reclaimable_cost:,.2f} "
        "(cleanup-ready and needs-review seats, list prices from product_policies.csv).",
        f"Published for analysts and BI tools: {summary.published_path}",
    ]
    return "\n".join(lines)
