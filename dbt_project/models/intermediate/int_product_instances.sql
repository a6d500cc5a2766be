-- One row per (org, product, site) in the workspaces listing: its site URL and licensed seat capacity.
with

workspaces as (
    select * from {{ ref('stg_atlassian__workspaces') }}
),

sites as (
    select * from {{ ref('int_sites') }}
),

instances as (
    select
        org_id,
        product_key,
        site_id,
        sum(seat_capacity) as seat_capacity
    from workspaces
    where product_key is not null and site_id is not null
    group by org_id, product_key, site_id
),

final as (
    select
        instances.org_id,
        instances.product_key,
        instances.site_id,
        sites.site_url,
        instances.seat_capacity
    from instances
    left join sites
        on
            instances.org_id = sites.org_id
            and instances.site_id = sites.site_id
)

select * from final
