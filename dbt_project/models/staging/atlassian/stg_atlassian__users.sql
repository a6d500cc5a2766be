{% set key_columns = ['org_id', 'account_id'] %}

-- Current state of every user ever listed (the raw table is a merge on org and account).
with

source as (
    select * from {{ raw_table('users', key_columns + ['extracted_at', 'snapshot_date']) }}
),

renamed as (
    select
        {{ atlassian_user_columns(source('raw', 'users')) }}

    from source
    {{ latest_load_only(key_columns) }}
)

select * from renamed
