{% set key_columns = ['org_id', 'directory_id'] %}
{% set columns = raw_column_names(source('raw', 'directories')) %}

with

source as (
    select * from {{ raw_table('directories', key_columns) }}
),

renamed as (
    select
        ---------- ids
        cast(org_id as varchar) as org_id,
        cast(directory_id as varchar) as directory_id,

        ---------- text
        {{ column_or_null(columns, 'name', 'varchar') }} as directory_name

    from source
    {{ latest_load_only(key_columns) }}
)

select * from renamed
