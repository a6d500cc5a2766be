-- The reclaim policy's notices as written by the reclaim_policy step (pipeline/reclaim/notices.py), typed.
with

source as (
    select * from {{ source_or_empty('reclaim', 'notices') }}
),

renamed as (
    select
        ---------- ids
        cast(notice_id as varchar) as notice_id,
        cast(org_id as varchar) as org_id,
        cast(account_id as varchar) as account_id,
        cast(action_key as varchar) as action_key,
        cast(policy_run_id as varchar) as policy_run_id,
        cast(apply_run_id as varchar) as apply_run_id,

        ---------- the person and the seats
        cast(email as varchar) as email,
        cast(display_name as varchar) as display_name,
        cast(seats as varchar) as seats,
        cast(reclaim_reason as varchar) as reclaim_reason,

        ---------- state
        cast(state as varchar) as state,
        cast(reason as varchar) as reason,
        cast(message_id as varchar) as message_id,
        cast(send_attempts as integer) as send_attempts,

        ---------- dates
        cast(planned_at as timestamptz) as planned_at,
        cast(sent_at as timestamptz) as sent_at,
        cast(removal_date as date) as removal_date,
        cast(closed_at as timestamptz) as closed_at

    from source
)

select * from renamed
