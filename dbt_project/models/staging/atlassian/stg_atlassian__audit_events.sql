{% set key_columns = ['org_id', 'event_id'] %}
{% set columns = raw_column_names(source('raw', 'audit_events')) %}

with

source as (
    select * from {{ raw_table('audit_events', key_columns) }}
),

renamed as (
    select
        ---------- ids
        cast(org_id as varchar) as org_id,
        cast(event_id as varchar) as event_id,
        {{ column_or_null(columns, 'action', 'varchar') }} as action,
        {{ column_or_null(columns, 'actor_account_id', 'varchar') }} as actor_account_id,
        -- the user the event is about (first `context[]` item of type users)
        {{ column_or_null(columns, 'subject_account_id', 'varchar') }} as subject_account_id,
        {{ column_or_null(columns, 'site_id', 'varchar') }} as site_id,

        ---------- text
        {{ column_or_null(columns, 'actor_name', 'varchar') }} as actor_name,
        {{ column_or_null(columns, 'actor_email', 'varchar') }} as actor_email,
        {{ column_or_null(columns, 'subject_email', 'varchar') }} as subject_email,
        {{ column_or_null(columns, 'site_host', 'varchar') }} as site_host,
        {{ column_or_null(columns, 'ip', 'varchar') }} as ip,
        {{ column_or_null(columns, 'country', 'varchar') }} as country,
        {{ column_or_null(columns, 'city', 'varchar') }} as city,
        {{ column_or_null(columns, 'message', 'varchar') }} as message,

        ---------- json
        {{ column_or_null(columns, 'context', 'json') }} as context,
        {{ column_or_null(columns, 'container', 'json') }} as container,

        ---------- timestamps
        {{ column_or_null(columns, 'event_at', 'timestamptz') }} as event_at,
        -- events-stream is ordered by processing time; late events have processed_at >> event_at
        {{ column_or_null(columns, 'processed_at', 'timestamptz') }} as processed_at

    from source
    {{ latest_load_only(key_columns) }}
)

select * from renamed
