-- The reclaim journal for readers, with every applied write checked against the latest extract: a
-- removal is verified once a users snapshot taken after it shows the membership gone and the seat freed,
-- a suspension once the user is listed as suspended (and an undo once the membership or access is back).
with

journal as (
    select * from {{ ref('stg_reclaim__actions') }}
),

as_of as (
    select * from {{ ref('int_orgs__as_of') }}
),

extract_runs as (
    select * from {{ ref('stg_atlassian__extract_runs') }}
),

memberships as (
    select * from {{ ref('stg_atlassian__group_memberships') }}
),

access as (
    select * from {{ ref('int_user_products__access') }}
),

users as (
    select * from {{ ref('int_users__latest') }}
),

member_keys as (
    select distinct
        org_id,
        group_id,
        account_id,
        true as is_member
    from memberships
),

seat_keys as (
    select distinct
        org_id,
        account_id,
        product_key,
        site_id,
        true as holds_seat
    from access
),

checked as (
    select
        journal.*,
        as_of.extracted_at as checked_at,
        -- The marts' extract came after the write: started (this machine's clock) after the write was sent,
        -- since apply and run never overlap (both hold the data folder), or answered (the API's clock)
        -- after it. The simulator's clock stands still between advances, so the first is what tells there.
        coalesce(
            journal.state = 'applied'
            and (extract_runs.started_at > journal.intent_at or as_of.extracted_at > journal.done_at),
            false
        ) as is_checkable,
        coalesce(member_keys.is_member, false) as is_member_now,
        coalesce(seat_keys.holds_seat, false) as holds_seat_now,
        users.membership_status
    from journal
    left join as_of
        on journal.org_id = as_of.org_id
    left join extract_runs
        on {{ same_in_org('as_of', 'extract_runs', 'run_id') }}
    left join member_keys
        on {{ same_in_org('journal', 'member_keys', ['group_id', 'account_id']) }}
    left join seat_keys
        on {{ same_seat('journal', 'seat_keys') }}
    left join users
        on {{ same_in_org('journal', 'users', 'account_id') }}
),

verified as (
    select
        *,
        case
            when not is_checkable then null
            when action = 'remove_group_member' then not is_member_now and not holds_seat_now
            when action = 'suspend_user' then membership_status = 'suspended'
            when action = 'add_group_member' then is_member_now
            when action = 'restore_user' then coalesce(membership_status != 'suspended', false)
        end as is_verified
    from checked
),

final as (
    select
        action_id,
        plan_hash,
        apply_run_id,
        action,
        org_id,
        directory_id,
        group_id,
        group_name,
        account_id,
        product_key,
        site_id,
        reclaim_reason,
        monthly_seat_price,
        case when is_verified then 'verified' else state end as state,
        state as journal_state,
        reason,
        request_id,
        planned_at,
        intent_at,
        done_at,
        case when is_verified then checked_at end as verified_at,
        case
            when state != 'applied' then null
            when not is_checkable then 'awaiting a run after the write'
            when is_verified and action = 'remove_group_member' then 'membership gone, seat freed'
            when is_verified and action = 'suspend_user' then 'user suspended'
            when is_verified then 'access back'
            when action = 'remove_group_member' and is_member_now then 'membership still present'
            when action = 'remove_group_member' then 'seat still held through another grant'
            when action = 'suspend_user' then 'user not suspended'
            else 'access not back'
        end as verification,
        undoes_action_id,
        undone_by_run_id
    from verified
)

select * from final
