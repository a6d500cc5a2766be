"""What a person reads after a run: users by lifecycle status, seats per product, reclaimable cost.

Read from the published copy's marts, never recomputed: it shows exactly what analysts and BI tools see.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipeline.readers.reclaim import ReclaimRun, format_reclaim, reclaim_runs
from pipeline.warehouse import connect

# Every number is the mart's own (marts.agg_product_usage_daily, where the metrics are defined), summed over
# orgs at each org's as-of day. "seats" is the mart's users_with_access: people with access to the product,
# once per product whatever the number of sites (docs/architecture.md, "What a seat is").
_PRODUCT_SQL = """
select
    product_key,
    sum(users_with_access) as seats,
    sum(active_users_30d) as active_30d,
    sum(active_users_90d) as active_90d,
    sum(inactive_users) as inactive,
    sum(never_active_users) as never_used,
    sum(invited_pending_users) as invited_pending,
    sum(cleanup_ready_candidates) as cleanup_ready,
    sum(needs_review_candidates) as needs_review,
    sum(protected_candidates) as protected,
    sum(est_monthly_reclaimable_cost) as est_monthly_reclaimable_cost
from marts.agg_product_usage_daily as usage
where snapshot_date = (
    select max(latest.snapshot_date) from marts.agg_product_usage_daily as latest
    where latest.org_id = usage.org_id
)
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
    reclaim: list[ReclaimRun] = field(default_factory=list)

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
        reclaim=reclaim_runs(published),
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
    name = max([len("product"), *(len(p.product_key) for p in summary.products)])
    header = (
        f"  {'product':<{name}} {'seats':>7} {'act30d':>7} {'act90d':>7} {'inactive':>8} {'never':>7} "
        f"{'invited':>7} {'ready':>6} {'review':>6} {'protect':>7} {'$/month':>10}"
    )
    lines += ["", "Seats per product (reclaim candidates: ready / review / protected):", header]
    for p in summary.products:
        lines.append(
            f"  {p.product_key:<{name}} {p.seats:>7,} {p.active_30d:>7,} {p.active_90d:>7,} {p.inactive:>8,} "
            f"{p.never_used:>7,} {p.invited_pending:>7,} {p.cleanup_ready:>6,} {p.needs_review:>6,} "
            f"{p.protected:>7,} {p.est_monthly_reclaimable_cost:>10,.2f}"
        )
    lines += [
        "",
        f"Estimated monthly reclaimable cost: {summary.est_monthly_reclaimable_cost:,.2f} "
        "(cleanup-ready and needs-review seats, list prices from product_policies.csv).",
        *format_reclaim(summary.reclaim),
        f"Published for analysts and BI tools: {summary.published_path}",
    ]
    return "\n".join(lines)
