{% set key_columns = ['org_id', 'snapshot_date', 'account_id', 'resource_id', 'role_id'] %}
{% set columns = raw_column_names(source('raw', 'user_role_assignments')) %}
{% set resource_id = column_or_null(columns, 'resource_id', 'varchar') %}

-- A user's roles per product instance on a snapshot day (v2 user role-assignments), read only for the
-- users whose groups do not explain every resource they hold a role on: their direct grants.
with

source as (
    select * from {{ raw_table('user_role_assignments', key_columns) }}
),

renamed as (
    select
        ---------- ids
        cast(org_id as varchar) as org_id,
        cast(account_id as varchar) as account_id,
        -- role assignments name the instance by ARI only (`ari:cloud:jira-admin::site/…` included)
        {{ api_product_key(column_or_null(columns, 'product_key', 'varchar'), resource_id) }}
            as api_product_key,
        {{ site_from_resource(column_or_null(columns, 'site_id', 'varchar'), resource_id) }}
            as site_id,
        cast(role_id as varchar) as role_id,
        {{ resource_id }} as resource_id,
        {{ column_or_null(columns, 'directory_id', 'varchar') }} as directory_id,

        ---------- properties
        {{ column_or_null(columns, 'assignment_methods', 'varchar') }} as assignment_methods,
        -- `inferred` alone: the role follows from another one (the API's word), it was not granted
        coalesce({{ column_or_null(columns, 'assignment_methods', 'varchar') }} = 'inferred', false)
            as is_inferred_only,

        ---------- dates
        cast(snapshot_date as date) as snapshot_date

    from source
    {{ latest_load_only(key_columns) }}
),

normalised as (
    {{ with_product_identity('renamed') }}
)

select * from normalised
