{{ daily_history(['org_id', 'snapshot_date', 'account_id']) }}

-- History: one row per (org, snapshot day, user), appended by every dbt run (macros/daily_history.sql says
-- how a day is replaced and why the history is never rebuilt).
with

users as (
    select * from {{ ref('int_users__lifecycle') }}
),

seats as (
    select * from {{ ref('int_user_products__reclaim') }}
),

as_of as (
    select * from {{ ref('int_orgs__as_of') }}
),

seat_summary as (
    select
        org_id,
        account_id,
        count(*) filter (where has_access) as product_access_count,
        bool_or(is_reclaim_candidate) as is_reclaim_candidate
    from seats
    group by org_id, account_id
),

final as (
    select
        users.org_id,
        as_of.snapshot_date,
        users.account_id,
        users.lifecycle_status,
        users.last_active_at,
        coalesce(seat_summary.product_access_count, 0) as product_access_count,
        coalesce(seat_summary.is_reclaim_candidate, false) as is_reclaim_candidate,
        ---------- beyond the contract
        as_of.as_of_date,
        cast(users.days_since_last_active as bigint) as days_since_last_active,
        as_of.run_id
    from users
    inner join as_of
        on users.org_id = as_of.org_id
    left join seat_summary
        on {{ same_in_org('users', 'seat_summary', 'account_id') }}
)

select * from final
