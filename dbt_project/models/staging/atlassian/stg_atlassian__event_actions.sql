{% set key_columns = ['org_id', 'action'] %}

-- Audit log action keys with their localized labels (from /event-actions).
with

source as (
    select * from {{ source_or_empty('raw', 'event_actions') }}
),

renamed as (
    select
        ---------- ids
        cast(org_id as varchar) as org_id,
        cast(action as varchar) as action,

        ---------- text
        cast(display_name as varchar) as action_display_name,
        cast(group_display_name as varchar) as action_group

    from source
    {{ latest_load_only(key_columns) }}
)

select * from renamed
