-- Users active in the last 30 days, per product, one point per day with a successful run.
select
    org_id,
    product_key,
    snapshot_date,
    active_users_30d,
    users_with_access,
    round(100.0 * active_users_30d / nullif(users_with_access, 0), 1) as pct_active_30d
from marts.agg_product_usage_daily
order by org_id, product_key, snapshot_date
