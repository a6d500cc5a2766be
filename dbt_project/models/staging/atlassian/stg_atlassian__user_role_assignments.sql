{% set key_columns = ['org_id', 'snapshot_date', 'account_id', 'resource_id', 'role_id'] %}

-- A user's roles per product instance on a snapshot day (v2 user role-assignments), read only for the
-- users whose groups do not explain every resource they hold a role on: their direct grants.
-- A day loaded twice keeps what its later load read, and nothing else: merging on the key would keep a role
-- the later load no longer shows (a group membership removed by seatwatch reclaim apply between two runs
-- of one day would look like a direct grant). Users are listed by every load but their role assignments
-- read only for some, so "later" is the org-day's latest users listing.
with

source as (
    select * from {{ source_or_empty('raw', 'user_role_assignments') }}
),

latest_listings as (
    select
        org_id,
        snapshot_date,
        max(try_cast(_dlt_load_id as double)) as load_id
    from {{ source_or_empty('raw', 'users') }}
    group by org_id, snapshot_date
),

latest_reads as (
    select source.*
    from source
    inner join latest_listings
        on
            source.org_id = latest_listings.org_id
            and cast(source.snapshot_date as date) = latest_listings.snapshot_date
            and try_cast(source._dlt_load_id as double) = latest_listings.load_id
),

renamed as (
    select
        ---------- ids
        cast(org_id as varchar) as org_id,
        cast(account_id as varchar) as account_id,
        -- role assignments name the instance by ARI only (`ari:cloud:jira-admin::site/…` included)
        {{ api_product_key('product_key', 'resource_id') }} as api_product_key,
        {{ site_from_resource('site_id', 'resource_id') }} as site_id,
        cast(role_id as varchar) as role_id,
        cast(resource_id as varchar) as resource_id,
        cast(directory_id as varchar) as directory_id,

        ---------- properties
        cast(assignment_methods as varchar) as assignment_methods,
        -- `inferred` alone: the role follows from another one (the API's word), it was not granted
        coalesce(assignment_methods = 'inferred', false) as is_inferred_only,

        ---------- dates
        cast(snapshot_date as date) as snapshot_date

    from latest_reads
    {{ latest_load_only(key_columns) }}
),

normalised as (
    {{ with_product_identity('renamed') }}
)

select * from normalised
