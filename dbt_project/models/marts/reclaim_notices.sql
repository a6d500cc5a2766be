-- The reclaim policy's notices for readers: one row per seat action noticed, its seats as a list.
with

notices as (
    select * from {{ ref('stg_reclaim__notices') }}
),

final as (
    select
        notice_id,
        org_id,
        account_id,
        email,
        display_name,
        action_key,
        seats,
        reclaim_reason,
        state,
        reason,
        message_id,
        policy_run_id,
        planned_at,
        sent_at,
        removal_date,
        send_attempts,
        apply_run_id,
        closed_at
    from notices
)

select * from final
