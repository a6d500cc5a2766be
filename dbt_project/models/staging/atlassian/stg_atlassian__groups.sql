{% set key_columns = ['org_id', 'group_id'] %}

with

source as (
    select * from {{ source_or_empty('raw', 'groups') }}
),

renamed as (
    select
        ---------- ids
        cast(org_id as varchar) as org_id,
        cast(group_id as varchar) as group_id,
        cast(directory_id as varchar) as directory_id,

        ---------- text
        cast(name as varchar) as group_name,
        cast(description as varchar) as group_description,
        -- external / admins / team-members / open
        cast(managed_by as varchar) as managed_by,

        ---------- booleans
        -- synced from an identity provider: membership changes belong in the IdP, not in Atlassian
        cast(is_external_synced as boolean) as is_external_synced,

        ---------- numerics
        cast(user_count as bigint) as user_count,
        cast(resource_count as bigint) as resource_count

    from source
    {{ latest_load_only(key_columns) }}
)

select * from renamed
