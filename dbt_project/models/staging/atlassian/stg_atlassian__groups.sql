{% set key_columns = ['org_id', 'group_id'] %}
{% set columns = raw_column_names(source('raw', 'groups')) %}

with

source as (
    select * from {{ raw_table('groups', key_columns) }}
),

renamed as (
    select
        ---------- ids
        cast(org_id as varchar) as org_id,
        cast(group_id as varchar) as group_id,
        {{ column_or_null(columns, 'directory_id', 'varchar') }} as directory_id,

        ---------- text
        {{ column_or_null(columns, 'name', 'varchar') }} as group_name,
        {{ column_or_null(columns, 'description', 'varchar') }} as group_description,
        -- external / admins / team-members / open
        {{ column_or_null(columns, 'managed_by', 'varchar') }} as managed_by,

        ---------- booleans
        -- synced from an identity provider: membership changes belong in the IdP, not in Atlassian
        {{ column_or_null(columns, 'is_external_synced', 'boolean') }} as is_external_synced,

        ---------- numerics
        {{ column_or_null(columns, 'user_count', 'bigint') }} as user_count,
        {{ column_or_null(columns, 'resource_count', 'bigint') }} as resource_count

    from source
    {{ latest_load_only(key_columns) }}
)

select * from renamed
