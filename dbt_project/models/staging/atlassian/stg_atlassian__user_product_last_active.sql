{% set key_columns = ['org_id', 'account_id', 'product_key', 'site_id', 'last_active_date'] %}

-- Every distinct last-active observation (one per user, product instance and date), never only the latest:
-- "product activity ever observed" must see activity that a later response no longer shows.
with

source as (
    select * from {{ source_or_empty('raw', 'user_product_last_active') }}
),

renamed as (
    select
        ---------- ids
        cast(org_id as varchar) as org_id,
        cast(account_id as varchar) as account_id,
        -- the key as the API said it (v1 enum keys here); product_key below is the normalised identity
        {{ api_product_key('product_key', 'resource_id') }} as api_product_key,
        {{ site_from_resource('site_id', 'resource_id') }} as site_id,
        cast(resource_id as varchar) as resource_id,

        ---------- dates and timestamps
        cast(last_active_date as date) as last_active_date,
        -- v1 sends a date only for some products: then the time of day is unknown
        cast(last_active_at as timestamptz) as last_active_at,
        cast(observed_at as timestamptz) as observed_at,
        cast(snapshot_date as date) as snapshot_date

    from source
    where last_active_date is not null
    {{ latest_load_only(key_columns) }}
),

normalised as (
    {{ with_product_identity('renamed') }}
)

select * from normalised
