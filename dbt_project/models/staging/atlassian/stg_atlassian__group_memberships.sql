{% set key_columns = ['org_id', 'group_id', 'account_id'] %}

with

source as (
    select * from {{ source_or_empty('raw', 'group_memberships') }}
),

renamed as (
    select
        ---------- ids
        cast(org_id as varchar) as org_id,
        cast(group_id as varchar) as group_id,
        cast(account_id as varchar) as account_id

    from source
    {{ latest_load_only(key_columns) }}
)

select * from renamed
