-- One row per (org, product, site) in the workspaces listing: its licensed seat capacity. The site's URL is
-- a property of the site: int_sites.
with

workspaces as (
    select * from {{ ref('stg_atlassian__workspaces') }}
),

final as (
    select
        org_id,
        product_key,
        site_id,
        sum(seat_capacity) as seat_capacity
    from workspaces
    where product_key is not null and site_id is not null
    group by org_id, product_key, site_id
)

select * from final
