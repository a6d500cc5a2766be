-- One row per seat and group that grants it: the memberships `seatwatch reclaim` would remove to free the
-- seat (every one of them, or the seat stays), with what else each group grants and how it is managed.
with

member_grants as (
    select * from {{ ref('int_group_member_grants') }}
),

seats as (
    select * from {{ ref('fct_user_product_access') }}
),

groups as (
    select * from {{ ref('dim_groups') }}
),

seat_groups as (
    select distinct
        org_id,
        account_id,
        product_key,
        site_id,
        group_id
    from member_grants
    where is_seat_role
),

final as (
    select
        seat_groups.org_id,
        seat_groups.account_id,
        seat_groups.product_key,
        seat_groups.site_id,
        seat_groups.group_id,
        groups.group_name,
        groups.directory_id,
        coalesce(groups.is_external_synced, false) as is_external_synced,
        coalesce(groups.is_multi_product, false) as is_multi_product,
        coalesce(groups.product_instances_granted, 0) = 1 as grants_only_this_seat,
        coalesce(groups.is_admin_group, false) as is_admin_group,
        seats.reclaim_lane,
        seats.as_of_date
    from seat_groups
    inner join seats
        on {{ same_seat('seat_groups', 'seats') }}
    left join groups
        on {{ same_in_org('seat_groups', 'groups', 'group_id') }}
)

select * from final
