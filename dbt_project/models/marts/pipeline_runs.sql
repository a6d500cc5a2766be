-- One row per extract run and org: when the data was taken (API clock), how complete activity is,
-- what it cost in API calls, and which run the marts are as of.
with

extract_runs as (
    select * from {{ ref('stg_atlassian__extract_runs') }}
),

as_of as (
    select * from {{ ref('int_orgs__as_of') }}
),

final as (
    select
        extract_runs.run_id,
        extract_runs.org_id,
        extract_runs.started_at,
        extract_runs.finished_at,
        extract_runs.extracted_at,
        extract_runs.activity_complete_through,
        extract_runs.as_of_date,
        extract_runs.api_calls,
        extract_runs.api_retries,
        extract_runs.api_rate_limited,
        extract_runs.users_loaded,
        extract_runs.last_active_rows_loaded,
        extract_runs.events_loaded,
        -- `running`: the run that built these marts shows as the success it is about to publish; any
        -- other run still `running` did not finish.
        case
            when extract_runs.status != 'running' then extract_runs.status
            when as_of.run_id is not null then 'success'
            else 'incomplete'
        end as status,
        ---------- beyond the contract
        extract_runs.activity_lag_hours,
        extract_runs.last_active_strategy,
        as_of.run_id is not null as is_as_of_run
    from extract_runs
    left join as_of
        on {{ same_in_org('extract_runs', 'as_of', 'run_id') }}
)

select * from final
