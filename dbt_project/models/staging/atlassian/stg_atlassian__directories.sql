{% set key_columns = ['org_id', 'directory_id'] %}

with

source as (
    select * from {{ source_or_empty('raw', 'directories') }}
),

renamed as (
    select
        ---------- ids
        cast(org_id as varchar) as org_id,
        cast(directory_id as varchar) as directory_id,

        ---------- text
        cast(name as varchar) as directory_name

    from source
    {{ latest_load_only(key_columns) }}
)

select * from renamed
