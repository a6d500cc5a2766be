-- One row per (org, user, product, site) the user holds a seat for now: through the groups they belong
-- to, or directly: listed by the API's productAccess with no group granting it, or a seat role assigned to
-- the user (user role-assignments, read for the users whose groups do not explain their resources) that
-- no group of theirs grants. productAccess may list used products only, so the role assignments are what
-- makes an unused direct grant visible (docs/direct-grants.md).
--
-- Only roles in the `seat_role_ids` var occupy a seat (user and product admin); a group that grants a
-- guest or customer role gives access but no paid seat, so it does not count here. It still counts as
-- "a group grants this" when telling group access from direct access.
with

grants as (
    select * from {{ ref('stg_atlassian__group_product_grants') }}
),

listed_access as (
    select * from {{ ref('stg_atlassian__user_product_access') }}
),

assigned_roles as (
    select * from {{ ref('stg_atlassian__user_role_assignments') }}
),

as_of as (
    select * from {{ ref('int_orgs__as_of') }}
),

member_grants as (
    select * from {{ ref('int_group_member_grants') }}
),

seat_grants as (
    select distinct
        org_id,
        account_id,
        group_id,
        group_name,
        product_key,
        site_id
    from member_grants
    where is_seat_role
),

-- Every product instance a group grants, whatever the role: removing a member takes all of them away.
group_instances as (
    select distinct
        org_id,
        group_id,
        product_key,
        site_id
    from grants
    where product_key is not null and site_id is not null
),

other_instances as (
    select
        seat_grants.org_id,
        seat_grants.account_id,
        seat_grants.product_key,
        seat_grants.site_id,
        -- the same product on another site shows as its product key too: still more than this seat
        string_agg(distinct group_instances.product_key, ', ' order by group_instances.product_key)
            as other_products_granted_by_granting_groups
    from seat_grants
    inner join group_instances
        on
            {{ same_in_org('seat_grants', 'group_instances', 'group_id') }}
            and (
                seat_grants.product_key != group_instances.product_key
                or seat_grants.site_id != group_instances.site_id
            )
    group by seat_grants.org_id, seat_grants.account_id, seat_grants.product_key, seat_grants.site_id
),

-- Roles assigned to the user on the as-of day that are grants (not only inferred from another role).
as_of_assigned_roles as (
    select assigned_roles.*
    from assigned_roles
    inner join as_of
        on {{ same_in_org('assigned_roles', 'as_of', 'snapshot_date') }}
    where
        not assigned_roles.is_inferred_only
        and assigned_roles.product_key is not null
        and assigned_roles.site_id is not null
),

admin_instances as (
    select
        org_id,
        account_id,
        product_key,
        site_id
    from member_grants
    where is_admin_role
    union
    select
        org_id,
        account_id,
        product_key,
        site_id
    from as_of_assigned_roles
    where role_id in {{ sql_string_list(var('admin_role_ids')) }}
),

group_access as (
    select
        org_id,
        account_id,
        product_key,
        site_id,
        false as is_direct_access,
        string_agg(group_id, ', ' order by group_id) as granting_group_ids,
        string_agg(coalesce(group_name, group_id), ', ' order by coalesce(group_name, group_id))
            as granting_group_names,
        count(*) as granting_group_count
    from seat_grants
    group by org_id, account_id, product_key, site_id
),

-- Listed by productAccess on the as-of day and granted by no group at all (productAccess names no role).
listed_direct as (
    select
        listed_access.org_id,
        listed_access.account_id,
        listed_access.product_key,
        listed_access.site_id
    from listed_access
    inner join as_of
        on {{ same_in_org('listed_access', 'as_of', 'snapshot_date') }}
    where
        listed_access.product_key is not null
        and listed_access.site_id is not null
        and not exists (
            select 1
            from member_grants
            where {{ same_seat('member_grants', 'listed_access') }}
        )
),

-- A seat role assigned to the user on an instance none of their groups gives a seat on.
assigned_direct as (
    select
        as_of_assigned_roles.org_id,
        as_of_assigned_roles.account_id,
        as_of_assigned_roles.product_key,
        as_of_assigned_roles.site_id
    from as_of_assigned_roles
    where
        as_of_assigned_roles.role_id in {{ sql_string_list(var('seat_role_ids')) }}
        and not exists (
            select 1
            from seat_grants
            where {{ same_seat('seat_grants', 'as_of_assigned_roles') }}
        )
),

direct_access as (
    select distinct
        org_id,
        account_id,
        product_key,
        site_id,
        true as is_direct_access,
        cast(null as varchar) as granting_group_ids,
        cast(null as varchar) as granting_group_names,
        cast(0 as bigint) as granting_group_count
    from (
        select * from listed_direct
        union all
        select * from assigned_direct
    ) as direct_seats
),

access as (
    select * from group_access
    union all
    select * from direct_access
),

final as (
    select
        access.*,
        true as has_access,
        admin_instances.account_id is not null as is_product_admin,
        other_instances.account_id is not null as has_other_products_in_granting_groups,
        other_instances.other_products_granted_by_granting_groups
    from access
    left join admin_instances
        on {{ same_seat('access', 'admin_instances') }}
    left join other_instances
        on {{ same_seat('access', 'other_instances') }}
)

select * from final
