{{ daily_history(['org_id', 'snapshot_date', 'product_key']) }}

-- History: one row per (org, snapshot day, product), appended by every dbt run; re-running a day
-- replaces it (see macros/daily_history.sql for why history is never rebuilt).
-- The *_users columns count people (a user with seats on two sites of one product counts once, judged
-- on their most recent activity in the product); candidates and cost count seats.
with

seats as (
    select * from {{ ref('int_user_products__reclaim') }}
),

product_instances as (
    select * from {{ ref('int_product_instances') }}
),

as_of as (
    select * from {{ ref('int_orgs__as_of') }}
),

user_products as (
    select
        org_id,
        product_key,
        account_id,
        any_value(lifecycle_status) as lifecycle_status,
        min(days_since_last_active) filter (where has_access) as days_since_last_active,
        max(inactive_after_days) as inactive_after_days
    from seats
    where has_access
    group by org_id, product_key, account_id
),

people as (
    select
        org_id,
        product_key,
        count(*) as users_with_access,
        count(*) filter (where days_since_last_active <= 30) as active_users_30d,
        count(*) filter (where days_since_last_active <= 90) as active_users_90d,
        count(*) filter (where days_since_last_active > inactive_after_days) as inactive_users,
        count(*) filter (where days_since_last_active is null) as never_active_users,
        count(*) filter (where lifecycle_status = 'invited_pending') as invited_pending_users
    from user_products
    group by org_id, product_key
),

candidates as (
    select
        org_id,
        product_key,
        count(*) filter (where is_reclaim_candidate) as reclaim_candidates,
        count(*) filter (where reclaim_lane = 'cleanup_ready') as cleanup_ready_candidates,
        count(*) filter (where reclaim_lane = 'needs_review') as needs_review_candidates,
        count(*) filter (where reclaim_lane = 'protected') as protected_candidates,
        -- protected seats are not going to be reclaimed, so they are not counted as money to save
        sum(monthly_seat_price) filter (where reclaim_lane in ('cleanup_ready', 'needs_review'))
            as est_monthly_reclaimable_cost
    from seats
    group by org_id, product_key
),

capacity as (
    select
        org_id,
        product_key,
        sum(seat_capacity) as seat_capacity
    from product_instances
    group by org_id, product_key
),

-- products with seats, and products the org licenses that nobody holds yet
products as (
    select
        org_id,
        product_key
    from candidates
    union
    select
        org_id,
        product_key
    from capacity
),

final as (
    select
        products.org_id,
        as_of.snapshot_date,
        products.product_key,
        coalesce(people.users_with_access, 0) as users_with_access,
        coalesce(people.active_users_30d, 0) as active_users_30d,
        coalesce(people.active_users_90d, 0) as active_users_90d,
        coalesce(people.inactive_users, 0) as inactive_users,
        coalesce(people.never_active_users, 0) as never_active_users,
        coalesce(people.invited_pending_users, 0) as invited_pending_users,
        coalesce(candidates.reclaim_candidates, 0) as reclaim_candidates,
        coalesce(candidates.cleanup_ready_candidates, 0) as cleanup_ready_candidates,
        cast(capacity.seat_capacity as bigint) as seat_capacity,
        cast(coalesce(candidates.est_monthly_reclaimable_cost, 0) as decimal(12, 2))
            as est_monthly_reclaimable_cost,
        ---------- beyond the contract
        coalesce(candidates.needs_review_candidates, 0) as needs_review_candidates,
        coalesce(candidates.protected_candidates, 0) as protected_candidates,
        as_of.as_of_date
    from products
    inner join as_of
        on products.org_id = as_of.org_id
    left join people
        on {{ same_in_org('products', 'people', 'product_key') }}
    left join candidates
        on {{ same_in_org('products', 'candidates', 'product_key') }}
    left join capacity
        on {{ same_in_org('products', 'capacity', 'product_key') }}
)

select * from final
