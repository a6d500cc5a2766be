{% set key_columns = ['run_id', 'org_id'] %}
{% set columns = raw_column_names(source('raw', 'extract_runs')) %}

-- One row per extract run and org, written last by the dlt source.
with

source as (
    select * from {{ raw_table('extract_runs', key_columns) }}
),

typed as (
    select
        ---------- ids
        cast(run_id as varchar) as run_id,
        cast(org_id as varchar) as org_id,

        ---------- text
        {{ column_or_null(columns, 'status', 'varchar') }} as status,
        -- bulk (v2 search productAccess) or per_user (last-active-dates per user)
        {{ column_or_null(columns, 'last_active_strategy', 'varchar') }} as last_active_strategy,

        ---------- timestamps (extracted_at is the API server's clock, not ours)
        {{ column_or_null(columns, 'started_at', 'timestamptz') }} as started_at,
        {{ column_or_null(columns, 'finished_at', 'timestamptz') }} as finished_at,
        {{ column_or_null(columns, 'extracted_at', 'timestamptz') }} as extracted_at,
        {{ column_or_null(columns, 'activity_lag_hours', 'double') }} as activity_lag_hours,
        {{ column_or_null(columns, 'activity_complete_through', 'timestamptz') }}
            as activity_complete_through,
        {{ column_or_null(columns, 'as_of_date', 'date') }} as as_of_date,

        ---------- numerics
        {{ column_or_null(columns, 'api_calls', 'bigint') }} as api_calls,
        {{ column_or_null(columns, 'api_retries', 'bigint') }} as api_retries,
        {{ column_or_null(columns, 'api_rate_limited', 'bigint') }} as api_rate_limited,
        {{ column_or_null(columns, 'users_loaded', 'bigint') }} as users_loaded,
        {{ column_or_null(columns, 'last_active_rows_loaded', 'bigint') }} as last_active_rows_loaded,
        {{ column_or_null(columns, 'events_loaded', 'bigint') }} as events_loaded

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
