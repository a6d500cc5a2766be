-- One row per (org, user, product, site) the user holds a seat for now or was ever active in: access and
-- the groups granting it, inactivity, and whether (and how safely) the seat can be reclaimed.
with

seats as (
    select * from {{ ref('int_user_products__reclaim') }}
),

sites as (
    select * from {{ ref('int_sites') }}
),

final as (
    select
        seats.org_id,
        seats.account_id,
        seats.product_key,
        seats.site_id,
        sites.site_url,
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
    left join sites
        on {{ same_in_org('seats', 'sites', 'site_id') }}
)

select * from final
