{% set key_columns = ['org_id', 'action'] %}
{% set columns = raw_column_names(source('raw', 'event_actions')) %}

-- Audit log action keys with their localized labels (from /event-actions).
with

source as (
    select * from {{ raw_table('event_actions', key_columns) }}
),

renamed as (
    select
        ---------- ids
        cast(org_id as varchar) as org_id,
        cast(action as varchar) as action,

        ---------- text
        {{ column_or_null(columns, 'display_name', 'varchar') }} as action_display_name,
        {{ column_or_null(columns, 'group_display_name', 'varchar') }} as action_group

    from source
    {{ latest_load_only(key_columns) }}
)

select * from renamed
