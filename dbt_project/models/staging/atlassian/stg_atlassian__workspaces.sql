{% set key_columns = ['org_id', 'workspace_id'] %}
{% set columns = raw_column_names(source('raw', 'workspaces')) %}
{% set resource_id = 'cast(workspace_id as varchar)' %}

-- Product instances (Jira, Confluence, ... on a site): the site URL and the licensed seat capacity.
with

source as (
    select * from {{ raw_table('workspaces', key_columns) }}
),

renamed as (
    select
        ---------- ids
        cast(org_id as varchar) as org_id,
        cast(workspace_id as varchar) as workspace_id,
        {{ api_product_key(column_or_null(columns, 'product_key', 'varchar'), resource_id) }}
            as api_product_key,
        {{ site_from_resource(column_or_null(columns, 'site_id', 'varchar'), resource_id) }}
            as site_id,

        ---------- text
        {{ column_or_null(columns, 'name', 'varchar') }} as workspace_name,
        {{ column_or_null(columns, 'type_key', 'varchar') }} as type_key,
        -- the API documents hostUrl with and without a scheme: always give BI tools a clickable URL
        case
            when {{ column_or_null(columns, 'host_url', 'varchar') }} is null then null
            when {{ column_or_null(columns, 'host_url', 'varchar') }} like 'http%'
                then rtrim({{ column_or_null(columns, 'host_url', 'varchar') }}, '/')
            else 'https://' || rtrim({{ column_or_null(columns, 'host_url', 'varchar') }}, '/')
        end as site_url,
        -- online / offline / deprecated
        {{ column_or_null(columns, 'status', 'varchar') }} as workspace_status,

        ---------- numerics
        {{ column_or_null(columns, 'capacity', 'bigint') }} as seat_capacity,
        {{ column_or_null(columns, 'usage', 'bigint') }} as seat_usage,

        ---------- timestamps
        {{ column_or_null(columns, 'created_at', 'timestamptz') }} as created_at

    from source
    {{ latest_load_only(key_columns) }}
),

normalised as (
    {{ with_product_identity('renamed') }}
)

select * from normalised
