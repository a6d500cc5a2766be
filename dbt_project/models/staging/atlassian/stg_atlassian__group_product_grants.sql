{% set key_columns = ['org_id', 'group_id', 'product_key', 'site_id', 'role_id'] %}

-- One row per role a group holds on a product instance.
with

source as (
    select * from {{ source_or_empty('raw', 'group_product_grants') }}
),

renamed as (
    select
        ---------- ids
        cast(org_id as varchar) as org_id,
        cast(group_id as varchar) as group_id,
        -- role assignments name the instance by ARI only (`ari:cloud:jira-admin::site/…` included)
        {{ api_product_key('product_key', 'resource_id') }} as api_product_key,
        {{ site_from_resource('site_id', 'resource_id') }} as site_id,
        cast(role_id as varchar) as role_id,
        cast(resource_id as varchar) as resource_id

    from source
    {{ latest_load_only(key_columns) }}
),

normalised as (
    {{ with_product_identity('renamed') }}
)

select * from normalised
