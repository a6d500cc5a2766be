-- The reclamation plan: every reclaim candidate that is not protected, with the groups to remove the
-- user from and what else those groups grant (needs_review rows: a person decides; cleanup_ready rows:
-- removing the user from the listed groups frees exactly this seat).
with

seats as (
    select * from {{ ref('int_user_products__reclaim') }}
),

users as (
    select * from {{ ref('int_users__lifecycle') }}
),

sites as (
    select * from {{ ref('int_sites') }}
),

final as (
    select
        seats.org_id,
        seats.account_id,
        users.email,
        users.display_name,
        seats.product_key,
        seats.site_id,
        sites.site_url,
        seats.reclaim_reason,
        seats.reclaim_lane,
        cast(seats.days_since_last_active as bigint) as days_since_last_active,
        -- null for direct access: revoke the product role on the user instead
        seats.granting_group_names as groups_to_remove_from,
        seats.other_products_granted_by_granting_groups as other_products_granted_by_those_groups,
        seats.monthly_seat_price,
        seats.as_of_date,
        ---------- beyond the contract
        seats.granting_group_ids as group_ids_to_remove_from,
        seats.is_direct_access,
        users.lifecycle_status,
        seats.last_active_date
    from seats
    inner join users
        on {{ same_in_org('seats', 'users', 'account_id') }}
    left join sites
        on {{ same_in_org('seats', 'sites', 'site_id') }}
    where seats.is_reclaim_candidate and seats.reclaim_lane != 'protected'
)

select * from final
