"""Everything the report shows, read from the published copy's marts (metrics are defined in dbt only).

Headline and trend numbers come from ``marts.agg_product_usage_daily`` as they are; summing them over orgs
and products is the only arithmetic done here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline.config.errors import ConfigurationError, SeatwatchError
from pipeline.warehouse import connect

# The headline per product: each org's latest snapshot of agg_product_usage_daily.
_PRODUCTS_SQL = """
with latest as (
    select *
    from marts.agg_product_usage_daily
    where $org is null or org_id = $org
    qualify snapshot_date = max(snapshot_date) over (partition by org_id)
)
select
    product_key,
    sum(users_with_access)::bigint as users_with_access,
    sum(active_users_30d)::bigint as active_users_30d,
    sum(active_users_90d)::bigint as active_users_90d,
    sum(inactive_users)::bigint as inactive_users,
    sum(never_active_users)::bigint as never_active_users,
    sum(invited_pending_users)::bigint as invited_pending_users,
    sum(cleanup_ready_candidates)::bigint as cleanup_ready_candidates,
    sum(needs_review_candidates)::bigint as needs_review_candidates,
    sum(protected_candidates)::bigint as protected_candidates,
    sum(seat_capacity)::bigint as seat_capacity,
    sum(est_monthly_reclaimable_cost) as est_monthly_reclaimable_cost
from latest
group by product_key
order by product_key
"""

_USAGE_TREND_SQL = """
select
    as_of_date,
    product_key,
    sum(users_with_access)::bigint as users_with_access,
    sum(active_users_30d)::bigint as active_users_30d,
    sum(active_users_90d)::bigint as active_users_90d,
    sum(seat_capacity)::bigint as seat_capacity
from marts.agg_product_usage_daily
where $org is null or org_id = $org
group by all
order by as_of_date, product_key
"""

_STATUS_TREND_SQL = """
select as_of_date, lifecycle_status, count(*) as users
from marts.fct_user_status_daily
where $org is null or org_id = $org
group by all
order by as_of_date, lifecycle_status
"""

_PENDING_INVITES_SQL = """
select
    i.days_pending,
    coalesce(inviter.display_name, inviter.email, i.invited_by_account_id) as invited_by,
    coalesce(u.display_name, u.email, u.account_id) as invitee,
    u.email,
    i.invited_at
from marts.fct_invitations as i
inner join marts.dim_users as u
    on i.org_id = u.org_id and i.account_id = u.account_id
left join marts.dim_users as inviter
    on i.org_id = inviter.org_id and i.invited_by_account_id = inviter.account_id
where i.invitation_status = 'pending' and ($org is null or i.org_id = $org)
order by i.days_pending desc, invitee
"""

_COST_BY_LANE_SQL = """
select product_key, reclaim_lane, count(*) as seats, coalesce(sum(monthly_seat_price), 0) as monthly_cost
from marts.license_reclamation_plan
where $org is null or org_id = $org
group by all
order by product_key, reclaim_lane
"""

_GROUPS_SQL = """
select group_name, granted_product_keys, products_granted, member_count, is_external_synced
from marts.dim_groups
where is_multi_product and ($org is null or org_id = $org)
order by products_granted desc, member_count desc, group_name
"""

_STATUS_SQL = """
select lifecycle_status, count(*) as users
from marts.dim_users
where $org is null or org_id = $org
group by all
order by users desc, lifecycle_status
"""

# The run every mart is as of (per org), and the last run that finished successfully.
_FRESHNESS_SQL = """
with as_of_runs as (
    select *
    from marts.pipeline_runs
    where is_as_of_run and ($org is null or org_id = $org)
)
select
    min(as_of_date) as as_of_date,
    min(activity_complete_through) as activity_complete_through,
    min(extracted_at) as extracted_at,
    coalesce(
        max(activity_lag_hours), max(epoch(extracted_at) - epoch(activity_complete_through)) / 3600.0
    ) as activity_lag_hours,
    sum(api_calls)::bigint as api_calls,
    sum(api_retries)::bigint as api_retries,
    sum(api_rate_limited)::bigint as api_rate_limited,
    (select max(finished_at) from marts.pipeline_runs
     where status = 'success' and ($org is null or org_id = $org)) as last_success_at,
    string_agg(distinct run_id, ', ') as run_ids
from as_of_runs
"""


# The reclaim policy's notice funnel: noticed → kept by using it → removed → restored (undone).
_FUNNEL_SQL = """
with notices as (
    select * from marts.reclaim_notices where $org is null or org_id = $org
),

restored as (
    select count(distinct notices.notice_id) as restored
    from notices
    inner join marts.reclaim_actions as actions
        on notices.apply_run_id = actions.apply_run_id and notices.account_id = actions.account_id
    where notices.state = 'applied' and actions.journal_state = 'undone'
)

select
    count(*) filter (where state != 'planned') as noticed,
    count(*) filter (
        where state = 'cancelled' and (reason like 'kept%' or reason like 're-check%')
    ) as kept,
    count(*) filter (where state = 'applied') as removed,
    any_value(restored.restored) as restored
from notices cross join restored
"""


@dataclass(frozen=True)
class Freshness:
    as_of_date: date
    activity_complete_through: datetime
    extracted_at: datetime
    activity_lag_hours: float
    api_calls: int
    api_retries: int
    api_rate_limited: int
    last_success_at: datetime | None
    run_ids: str


@dataclass(frozen=True)
class ReportData:
    orgs: list[str]
    freshness: Freshness
    products: list[dict[str, Any]]
    users_by_status: list[tuple[str, int]]
    usage_trend: list[dict[str, Any]]
    status_trend: list[dict[str, Any]]
    pending_invites: list[dict[str, Any]]
    cost_by_lane: list[dict[str, Any]]
    multi_product_groups: list[dict[str, Any]]
    totals: dict[str, float] = field(default_factory=dict)
    notice_funnel: dict[str, int] = field(default_factory=dict)


def _records(con: Any, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [
        {name: _plain(value) for name, value in zip(names, row, strict=True)} for row in cursor.fetchall()
    ]


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def read_notice_funnel(con: Any, params: dict[str, Any]) -> dict[str, int]:
    """The notice funnel, or {} when the copy predates the policy's mart."""
    found = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'marts' and table_name = 'reclaim_notices'"
    ).fetchone()[0]
    if not found:
        return {}
    row = _records(con, _FUNNEL_SQL, params)[0]
    return {key: int(value or 0) for key, value in row.items()}


def read_report_data(published: Path, org: str | None = None) -> ReportData:
    if not published.exists():
        raise SeatwatchError(f"{published} does not exist yet: run `seatwatch run` first.")
    with connect(published, read_only=True) as con:
        orgs = [
            row[0]
            for row in con.execute("select distinct org_id from marts.pipeline_runs order by 1").fetchall()
        ]
        if org is not None and org not in orgs:
            known = ", ".join(orgs) or "none"
            raise ConfigurationError(f"--org {org} is not in {published} (orgs there: {known}).")
        params = {"org": org}
        products = _records(con, _PRODUCTS_SQL, params)
        if not products:
            raise SeatwatchError(f"{published} has no product usage yet: run `seatwatch run` first.")
        freshness = Freshness(**_records(con, _FRESHNESS_SQL, params)[0])
        data = ReportData(
            orgs=[org] if org else orgs,
            freshness=freshness,
            products=products,
            users_by_status=[tuple(row) for row in con.execute(_STATUS_SQL, params).fetchall()],
            usage_trend=_records(con, _USAGE_TREND_SQL, params),
            status_trend=_records(con, _STATUS_TREND_SQL, params),
            pending_invites=_records(con, _PENDING_INVITES_SQL, params),
            cost_by_lane=_records(con, _COST_BY_LANE_SQL, params),
            multi_product_groups=_records(con, _GROUPS_SQL, params),
            notice_funnel=read_notice_funnel(con, params),
        )
    metrics = [key for key in products[0] if key != "product_key"]
    data.totals.update({key: sum(p[key] or 0 for p in products) for key in metrics})
    data.totals["invited_pending"] = dict(data.users_by_status).get("invited_pending", 0)
    data.totals["pending_invites"] = len(data.pending_invites)
    return data
