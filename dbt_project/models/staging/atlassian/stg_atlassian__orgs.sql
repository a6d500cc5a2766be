{% set key_columns = ['org_id'] %}
{% set columns = raw_column_names(source('raw', 'orgs')) %}

with

source as (
    select * from {{ raw_table('orgs', key_columns) }}
),

renamed as (
    select
        ---------- ids
        cast(org_id as varchar) as org_id,

        ---------- text
        {{ column_or_null(columns, 'name', 'varchar') }} as org_name,

        ---------- timestamps
        {{ column_or_null(columns, 'extracted_at', 'timestamptz') }} as extracted_at

    from source
    {{ latest_load_only(key_columns) }}
)

select * from renamed
