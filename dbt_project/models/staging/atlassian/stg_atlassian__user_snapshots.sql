{% set key_columns = ['org_id', 'snapshot_date', 'account_id'] %}

-- The users listing as it was on each snapshot day: the history that tells removed users apart.
with

source as (
    select * from {{ raw_table('user_snapshots', key_columns + ['extracted_at', 'snapshot_date']) }}
),

renamed as (
    select
        {{ atlassian_user_columns(source('raw', 'user_snapshots')) }}

    from source
    {{ latest_load_only(key_columns) }}
)

select * from renamed
