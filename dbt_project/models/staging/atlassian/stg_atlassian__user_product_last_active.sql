{% set key_columns = ['org_id', 'account_id', 'product_key', 'site_id', 'last_active_date'] %}
{% set columns = raw_column_names(source('raw', 'user_product_last_active')) %}
{% set resource_id = column_or_null(columns, 'resource_id', 'varchar') %}

-- Every distinct last-active observation (one per user, product instance and date), never only the latest:
-- "product activity ever observed" must see activity that a later response no longer shows.
with

source as (
    select * from {{ raw_table('user_product_last_active', key_columns) }}
),

renamed as (
    select
        ---------- ids
        cast(org_id as varchar) as org_id,
        cast(account_id as varchar) as account_id,
        -- the key as the API said it (v1 enum keys here); product_key below is the normalised identity
        {{ api_product_key('cast(product_key as varchar)', resource_id) }}
            as api_product_key,
        {{ site_from_resource('cast(site_id as varchar)', resource_id) }}
            as site_id,
        {{ resource_id }} as resource_id,

        ---------- dates and timestamps
        cast(last_active_date as date) as last_active_date,
        -- v1 sends a date only for some products: then the time of day is unknown
        {{ column_or_null(columns, 'last_active_at', 'timestamptz') }} as last_active_at,
        {{ column_or_null(columns, 'observed_at', 'timestamptz') }} as observed_at,
        {{ column_or_null(columns, 'snapshot_date', 'date') }} as snapshot_date

    from source
    where last_active_date is not null
    {{ latest_load_only(key_columns) }}
),

normalised as (
    {{ with_product_identity('renamed') }}
)

select * from normalised
