-- The as-of context of each org: its latest successful run that listed users.
-- Every decision downstream (days since last activity, inactivity, grace periods) is taken against
-- as_of_date, the UTC date of activity_complete_through = extracted_at - lag, never against the wall
-- clock, so the API's activity lag can never make an active user look idle.
with

extract_runs as (
    select * from {{ ref('stg_atlassian__extract_runs') }}
),

user_snapshots as (
    select * from {{ ref('int_users__snapshots') }}
),

-- A run that did not list users (an events backfill, a failed run) must not become the as-of run:
-- every user would then look removed. `running` is the run building these models (a killed run's row is
-- settled to `failed` before the next run builds; see pipeline/runtime/run_records.py).
listing_runs as (
    select distinct
        org_id,
        run_id,
        snapshot_date
    from user_snapshots
),

successful_listing_runs as (
    select extract_runs.*
    from extract_runs
    where
        extract_runs.status in ('success', 'running')
        and exists (
            select 1
            from listing_runs
            where
                listing_runs.org_id = extract_runs.org_id
                and (
                    listing_runs.run_id = extract_runs.run_id
                    -- a loader that did not stamp run_id on users: match the snapshot day
                    or (
                        listing_runs.run_id is null
                        and listing_runs.snapshot_date = extract_runs.snapshot_date
                    )
                )
        )
),

final as (
    select
        org_id,
        run_id,
        extracted_at,
        activity_lag_hours,
        activity_complete_through,
        as_of_date,
        snapshot_date
    from successful_listing_runs
    qualify row_number() over (partition by org_id order by extracted_at desc, run_id desc) = 1
)

select * from final
