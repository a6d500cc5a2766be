-- One row per (org, product, site) in the workspaces listing: its site URL and licensed seat capacity.
with

workspaces as (
    select * from {{ ref('stg_atlassian__workspaces') }}
),

final as (
    select
        org_id,
        product_key,
        site_id,
        -- the URL belongs to the site: borrow it from another product's workspace when this one has none
        coalesce(max(site_url), max(max(site_url)) over (partition by org_id, site_id)) as site_url,
        sum(seat_capacity) as seat_capacity
    from workspaces
    where product_key is not null and site_id is not null
    group by org_id, product_key, site_id
)

select * from final
