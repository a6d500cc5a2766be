-- The reclaim journal as written by seatwatch reclaim apply / undo, typed.
with

source as (
    select * from {{ source_or_empty('reclaim', 'actions') }}
),

renamed as (
    select
        ---------- ids
        cast(action_id as varchar) as action_id,
        cast(plan_hash as varchar) as plan_hash,
        cast(apply_run_id as varchar) as apply_run_id,

        ---------- the write
        cast(action as varchar) as action,
        cast(org_id as varchar) as org_id,
        cast(directory_id as varchar) as directory_id,
        cast(group_id as varchar) as group_id,
        cast(group_name as varchar) as group_name,
        cast(account_id as varchar) as account_id,
        cast(product_key as varchar) as product_key,
        cast(site_id as varchar) as site_id,
        cast(reclaim_reason as varchar) as reclaim_reason,
        cast(monthly_seat_price as decimal(10, 2)) as monthly_seat_price,

        ---------- outcome
        cast(state as varchar) as state,
        cast(reason as varchar) as reason,
        cast(request_id as varchar) as request_id,

        ---------- timestamps
        cast(planned_at as timestamptz) as planned_at,
        cast(intent_at as timestamptz) as intent_at,
        cast(done_at as timestamptz) as done_at,

        ---------- undo
        cast(undoes_action_id as varchar) as undoes_action_id,
        cast(undone_by_run_id as varchar) as undone_by_run_id

    from source
)

select * from renamed
