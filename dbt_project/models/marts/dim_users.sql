-- One row per (org, user) ever seen: who they are, their lifecycle status as of the as-of date, their
-- invitation, first and last activity, and whether their seats are protected from reclamation.
with

users as (
    select * from {{ ref('int_users__lifecycle') }}
),

seats as (
    select * from {{ ref('int_user_products__reclaim') }}
),

seat_counts as (
    select
        org_id,
        account_id,
        count(*) filter (where has_access) as product_access_count
    from seats
    group by org_id, account_id
),

final as (
    select
        users.org_id,
        users.account_id,
        users.account_type,
        users.display_name,
        users.nickname,
        users.email,
        users.email_domain,
        users.claim_status,
        users.management_source,
        users.account_status,
        users.membership_status,
        users.user_status,
        users.is_mfa_enabled,
        -- text, not a list: CSV exports and BI tools read "a, b" everywhere
        nullif(array_to_string(list_sort(users.platform_roles), ', '), '') as platform_roles,
        users.is_org_admin,
        users.added_to_org_at,
        users.invited_at,
        users.invited_by_account_id,
        users.first_active_at,
        users.last_active_at,
        users.last_active_product_key,
        cast(users.days_since_last_active as bigint) as days_since_last_active,
        coalesce(seat_counts.product_access_count, 0) as product_access_count,
        users.lifecycle_status,
        users.is_exempt,
        users.exempt_reason,
        users.first_seen_at,
        users.last_seen_at,
        users.removed_at,
        users.as_of_date,
        ---------- beyond the contract
        users.is_site_admin,
        users.last_active_date,
        users.job_title,
        users.department
    from users
    left join seat_counts
        on {{ same_in_org('users', 'seat_counts', 'account_id') }}
)

select * from final
