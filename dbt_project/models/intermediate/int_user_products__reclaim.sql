-- One row per (org, user, product, site) the user holds a seat for now or was ever active in, with
-- inactivity, the reclaim reason and the reclaim lane (data contract, fct_user_product_access).
with

access as (
    select * from {{ ref('int_user_products__access') }}
),

product_activity as (
    select * from {{ ref('int_user_products__activity') }}
),

users as (
    select * from {{ ref('int_users__lifecycle') }}
),

product_policies as (
    select * from {{ ref('product_policies') }}
),

product_trust as (
    select * from {{ ref('int_products__trust') }}
),

seats as (
    select
        coalesce(access.org_id, product_activity.org_id) as org_id,
        coalesce(access.account_id, product_activity.account_id) as account_id,
        coalesce(access.product_key, product_activity.product_key) as product_key,
        coalesce(access.site_id, product_activity.site_id) as site_id,
        coalesce(access.has_access, false) as has_access,
        coalesce(access.is_direct_access, false) as is_direct_access,
        access.granting_group_ids,
        access.granting_group_names,
        coalesce(access.granting_group_count, 0) as granting_group_count,
        coalesce(access.is_product_admin, false) as is_product_admin,
        coalesce(access.has_other_products_in_granting_groups, false)
            as has_other_products_in_granting_groups,
        access.other_products_granted_by_granting_groups,
        product_activity.first_active_at,
        product_activity.last_active_at,
        product_activity.last_active_date
    from access
    full outer join product_activity
        on {{ same_seat('access', 'product_activity') }}
),

-- Seats of accounts that no listing knows (a stale group membership) cannot be judged: left out.
joined as (
    select
        seats.*,
        users.as_of_date,
        users.lifecycle_status,
        users.is_exempt,
        users.invited_at,
        -- never listed with added_to_org_at: the first listing is the earliest date we can vouch for
        coalesce(users.added_to_org_at, users.first_seen_at) as joined_org_at,
        coalesce(product_policies.inactive_after_days, {{ var('inactive_after_days') }})
            as inactive_after_days,
        product_policies.monthly_seat_price,
        -- fail safe: a product missing from the trust model is not trusted
        coalesce(product_trust.is_trusted, false) as is_product_trusted,
        {{ days_since('seats.last_active_date', 'users.as_of_date') }} as days_since_last_active
    from seats
    inner join users
        on {{ same_in_org('seats', 'users', 'account_id') }}
    left join product_policies
        on seats.product_key = product_policies.product_key
    left join product_trust
        on {{ same_in_org('seats', 'product_trust', 'product_key') }}
),

measured as (
    select
        *,
        coalesce(days_since_last_active > inactive_after_days, false) as is_inactive,
        case
            when last_active_date is null then 'never'
            when days_since_last_active <= 30 then '0-30'
            when days_since_last_active <= 60 then '31-60'
            when days_since_last_active <= 90 then '61-90'
            when days_since_last_active <= 180 then '91-180'
            else '181+'
        end as activity_bucket
    from joined
),

reasoned as (
    select
        *,
        case
            when not has_access then null
            -- suspended, deactivated, closed, removed and not invited users hold no seat to reclaim
            when lifecycle_status not in ('active', 'inactive', 'never_active', 'invited_pending') then null
            -- an invitee has never used anything: the invite, not the product, is what went unanswered
            when lifecycle_status = 'invited_pending'
                then
                    case
                        when
                            date_diff('day', {{ utc_date('invited_at') }}, as_of_date)
                            > {{ var('invite_grace_days') }}
                            then 'invite_not_accepted'
                    end
            when last_active_date is null
                then
                    case
                        when
                            date_diff('day', {{ utc_date('joined_org_at') }}, as_of_date)
                            > {{ var('new_user_grace_days') }}
                            then 'never_used'
                    end
            when is_inactive then 'inactive'
        end as reclaim_reason
    from measured
),

final as (
    select
        *,
        reclaim_reason is not null as is_reclaim_candidate,
        case
            when reclaim_reason is null then null
            when is_exempt or is_product_admin then 'protected'
            -- removing the user from the group would take away more than this seat, or there is no
            -- group to remove them from: a person decides
            when is_direct_access or has_other_products_in_granting_groups then 'needs_review'
            -- the product's activity could not be proven complete (int_products__trust): never cleanup
            when not is_product_trusted then 'needs_review'
            else 'cleanup_ready'
        end as reclaim_lane
    from reasoned
)

select * from final
