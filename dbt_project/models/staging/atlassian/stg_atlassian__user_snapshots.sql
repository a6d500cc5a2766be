{% set key_columns = ['org_id', 'snapshot_date', 'account_id'] %}

-- The users listing as it was on each snapshot day: the history that tells removed users apart.
with

source as (
    select * from {{ source_or_empty('raw', 'user_snapshots') }}
),

renamed as (
    select
        {{ user_listing_columns() }}

    from source
    {{ latest_load_only(key_columns) }}
)

select * from renamed
