{% set key_columns = ['org_id', 'workspace_id'] %}

-- Product instances (Jira, Confluence, ... on a site): the site URL and the licensed seat capacity.
with

source as (
    select * from {{ source_or_empty('raw', 'workspaces') }}
),

renamed as (
    select
        ---------- ids
        cast(org_id as varchar) as org_id,
        cast(workspace_id as varchar) as workspace_id,
        {{ api_product_key('product_key', 'workspace_id') }} as api_product_key,
        {{ site_from_resource('site_id', 'workspace_id') }} as site_id,

        ---------- text
        cast(name as varchar) as workspace_name,
        cast(type_key as varchar) as type_key,
        -- the API documents hostUrl with and without a scheme: always give BI tools a clickable URL
        case
            when host_url is null then null
            when host_url like 'http%' then rtrim(host_url, '/')
            else 'https://' || rtrim(host_url, '/')
        end as site_url,
        -- online / offline / deprecated
        cast(status as varchar) as workspace_status,

        ---------- numerics
        cast(capacity as bigint) as seat_capacity,
        cast(usage as bigint) as seat_usage,

        ---------- timestamps
        cast(created_at as timestamptz) as created_at

    from source
    {{ latest_load_only(key_columns) }}
),

normalised as (
    {{ with_product_identity('renamed') }}
)

select * from normalised
