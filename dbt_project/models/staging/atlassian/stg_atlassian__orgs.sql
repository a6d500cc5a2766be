{% set key_columns = ['org_id'] %}

with

source as (
    select * from {{ source_or_empty('raw', 'orgs') }}
),

renamed as (
    select
        ---------- ids
        cast(org_id as varchar) as org_id,

        ---------- text
        cast(name as varchar) as org_name,

        ---------- timestamps
        cast(extracted_at as timestamptz) as extracted_at

    from source
    {{ latest_load_only(key_columns) }}
)

select * from renamed
