{% set key_columns = ['org_id', 'event_id'] %}

with

source as (
    select * from {{ source_or_empty('raw', 'audit_events') }}
),

renamed as (
    select
        ---------- ids
        cast(org_id as varchar) as org_id,
        cast(event_id as varchar) as event_id,
        cast(action as varchar) as action,
        cast(actor_account_id as varchar) as actor_account_id,
        -- the user the event is about (first `context[]` item of type users)
        cast(subject_account_id as varchar) as subject_account_id,
        cast(site_id as varchar) as site_id,

        ---------- text
        cast(actor_name as varchar) as actor_name,
        cast(actor_email as varchar) as actor_email,
        cast(subject_email as varchar) as subject_email,
        cast(site_host as varchar) as site_host,
        cast(ip as varchar) as ip,
        cast(country as varchar) as country,
        cast(city as varchar) as city,
        cast(message as varchar) as message,

        ---------- json
        cast(context as json) as context,
        cast(container as json) as container,

        ---------- timestamps
        cast(event_at as timestamptz) as event_at,
        -- events-stream is ordered by processing time; late events have processed_at >> event_at
        cast(processed_at as timestamptz) as processed_at

    from source
    {{ latest_load_only(key_columns) }}
)

select * from renamed
