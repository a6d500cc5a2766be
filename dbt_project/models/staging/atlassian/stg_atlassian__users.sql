{% set key_columns = ['org_id', 'account_id'] %}

-- Current state of every user ever listed (the raw table is a merge on org and account).
with

source as (
    select * from {{ source_or_empty('raw', 'users') }}
),

renamed as (
    select
        {{ user_listing_columns() }}

    from source
    {{ latest_load_only(key_columns) }}
)

select * from renamed
