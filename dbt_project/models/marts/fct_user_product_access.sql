-- One row per (org, user, product, site) the user holds a seat for now or was ever active in: access and
-- the groups granting it, inactivity, and whether (and how safely) the seat can be reclaimed.
with

seats as (
    select * from {{ ref('int_user_products__reclaim') }}
),

product_instances as (
    select * from {{ ref('int_product_instances') }}
),

-- a product instance missing from the workspaces listing still gets its site's URL
sites as (
    select
        org_id,
        site_id,
        max(site_url) as site_url
    from product_instances
    group by org_id, site_id
),

final as (
    select
        seats.org_id,
        seats.account_id,
        seats.product_key,
        seats.site_id,
        coalesce(product_instances.site_url, sites.site_url) as site_url,
        seats.has_access,
        seats.granting_group_ids,
        seats.granting_group_names,
        seats.last_active_date,
        seats.last_active_at,
        cast(seats.days_since_last_active as bigint) as days_since_last_active,
        seats.activity_bucket,
        seats.is_inactive,
        seats.is_reclaim_candidate,
        seats.reclaim_reason,
        seats.reclaim_lane,
        seats.monthly_seat_price,
        seats.as_of_date,
        ---------- beyond the contract
        seats.is_direct_access,
        cast(seats.inactive_after_days as integer) as inactive_after_days,
        seats.first_active_at
    from seats
    left join product_instances
        on
            seats.org_id = product_instances.org_id
            and seats.product_key = product_instances.product_key
            and seats.site_id = product_instances.site_id
    left join sites
        on
            seats.org_id = sites.org_id
            and seats.site_id = sites.site_id
)

select * from final
