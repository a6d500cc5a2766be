-- One row per org, snapshot day and user: every users listing the warehouse holds.
-- `user_snapshots` is the history; `users` (current state) is added so that a user listed only there
-- (a warehouse loaded before the snapshot table existed) is not lost. The latest listing of a day wins.
with

user_snapshots as (
    select * from {{ ref('stg_atlassian__user_snapshots') }}
),

current_users as (
    select * from {{ ref('stg_atlassian__users') }}
),

unioned as (
    select * from user_snapshots
    union all by name
    select * from current_users
),

final as (
    select *
    from unioned
    qualify row_number() over (
        partition by org_id, snapshot_date, account_id
        order by extracted_at desc, run_id desc
    ) = 1
)

select * from final
