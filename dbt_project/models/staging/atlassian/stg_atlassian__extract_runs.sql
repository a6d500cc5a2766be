{% set key_columns = ['run_id', 'org_id'] %}

-- One row per extract run and org, written last by the dlt source.
with

source as (
    select * from {{ source_or_empty('raw', 'extract_runs') }}
),

typed as (
    select
        ---------- ids
        cast(run_id as varchar) as run_id,
        cast(org_id as varchar) as org_id,

        ---------- text
        cast(status as varchar) as status,
        -- bulk (v2 search productAccess) or per_user (last-active-dates per user)
        cast(last_active_strategy as varchar) as last_active_strategy,

        ---------- timestamps (extracted_at is the API server's clock, not ours)
        cast(started_at as timestamptz) as started_at,
        cast(finished_at as timestamptz) as finished_at,
        cast(extracted_at as timestamptz) as extracted_at,
        cast(activity_lag_hours as double) as activity_lag_hours,
        cast(activity_complete_through as timestamptz)
            as activity_complete_through,
        cast(as_of_date as date) as as_of_date,

        ---------- numerics
        cast(api_calls as bigint) as api_calls,
        cast(api_retries as bigint) as api_retries,
        cast(api_rate_limited as bigint) as api_rate_limited,
        cast(users_loaded as bigint) as users_loaded,
        cast(last_active_rows_loaded as bigint) as last_active_rows_loaded,
        cast(events_loaded as bigint) as events_loaded

    from source
    {{ latest_load_only(key_columns) }}
),

-- The loader writes the lag-adjusted as-of fields; derive them the same way (contract: "Time, lag and
-- as of") if an older loader left them empty, so no decision ever falls back to the wall clock.
derived as (
    select
        * replace (
            coalesce(
                activity_complete_through,
                extracted_at - to_seconds(coalesce(activity_lag_hours, 24) * 3600)
            ) as activity_complete_through
        )
    from typed
),

final as (
    select
        * replace (
            coalesce(as_of_date, {{ utc_date('activity_complete_through') }}) as as_of_date
        ),
        {{ utc_date('extracted_at') }} as snapshot_date
    from derived
)

select * from final
