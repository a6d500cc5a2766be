{% set key_columns = ['org_id', 'snapshot_date', 'account_id', 'product_key', 'site_id'] %}

-- Product instances a user can reach, per snapshot day (v2 search `productAccess`, bulk strategy only;
-- with the per-user strategy this table stays empty and access comes from group grants alone).
-- A day loaded twice keeps the later load only: merging on the key would keep access the later listing no
-- longer shows (a seat removed between two runs of one day, e.g. by seatwatch reclaim apply).
with

source as (
    select * from {{ source_or_empty('raw', 'user_product_access') }}
    qualify
        try_cast(_dlt_load_id as double)
        = max(try_cast(_dlt_load_id as double)) over (partition by org_id, snapshot_date)
),

renamed as (
    select
        ---------- ids
        cast(org_id as varchar) as org_id,
        cast(account_id as varchar) as account_id,
        {{ api_product_key('product_key', 'resource_id') }} as api_product_key,
        {{ site_from_resource('site_id', 'resource_id') }} as site_id,
        cast(resource_id as varchar) as resource_id,

        ---------- dates
        cast(snapshot_date as date) as snapshot_date

    from source
    {{ latest_load_only(key_columns) }}
),

normalised as (
    {{ with_product_identity('renamed') }}
)

select * from normalised
