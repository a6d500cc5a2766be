-- One row per (org, user) ever listed, with activity across all products, the latest invitation and the
-- lifecycle status (data contract, "Lifecycle status of a user": nine rules, the first match wins).
with

users as (
    select * from {{ ref('int_users__latest') }}
),

product_activity as (
    select * from {{ ref('int_user_products__activity') }}
),

invitations as (
    select * from {{ ref('int_invitations') }}
),

as_of as (
    select * from {{ ref('int_orgs__as_of') }}
),

user_activity as (
    select
        org_id,
        account_id,
        min(first_active_at) as first_active_at,
        max(last_active_at) as last_active_at,
        max(last_active_date) as last_active_date,
        first(product_key order by last_active_at desc, product_key asc) as last_active_product_key
    from product_activity
    group by org_id, account_id
),

latest_invitations as (
    select
        org_id,
        account_id,
        invited_at,
        invited_by_account_id,
        bool_or(invitation_source = 'audit_log') over (partition by org_id, account_id) as has_invite_event
    from invitations
    qualify row_number() over (partition by org_id, account_id order by invited_at desc) = 1
),

joined as (
    select
        users.*,
        as_of.as_of_date,
        user_activity.first_active_at,
        user_activity.last_active_at,
        user_activity.last_active_date,
        user_activity.last_active_product_key,
        {{ days_since('user_activity.last_active_date', 'as_of.as_of_date') }} as days_since_last_active,
        latest_invitations.invited_at,
        latest_invitations.invited_by_account_id,
        coalesce(latest_invitations.has_invite_event, false) as has_invite_event
    from users
    inner join as_of
        on users.org_id = as_of.org_id
    left join user_activity
        on {{ same_in_org('users', 'user_activity', 'account_id') }}
    left join latest_invitations
        on {{ same_in_org('users', 'latest_invitations', 'account_id') }}
),

final as (
    select
        *,
        case
            when is_removed then 'removed'
            when account_status = 'closed' then 'closed'
            when account_status = 'inactive' then 'deactivated'
            when membership_status = 'suspended' then 'suspended'
            when membership_status = 'no_membership' then 'not_invited'
            -- "no product activity ever observed" = no observation at all, in any product, on any day
            when
                last_active_date is null
                and (management_source = 'invited' or has_invite_event)
                then 'invited_pending'
            when last_active_date is null then 'never_active'
            when days_since_last_active <= {{ var('inactive_after_days') }} then 'active'
            else 'inactive'
        end as lifecycle_status
    from joined
)

select * from final
