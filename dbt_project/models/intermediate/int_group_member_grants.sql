-- One row per (org, member, group, product instance, role) a group grants its members: the one place that
-- says which role grants are seats and which make the member an admin. int_user_products__access (who
-- holds which seat) and marts.fct_seat_granting_groups (which memberships a reclaim removes) both read it.
with

grants as (
    select * from {{ ref('stg_atlassian__group_product_grants') }}
),

memberships as (
    select * from {{ ref('stg_atlassian__group_memberships') }}
),

groups as (
    select * from {{ ref('stg_atlassian__groups') }}
),

final as (
    select distinct
        memberships.org_id,
        memberships.account_id,
        memberships.group_id,
        groups.group_name,
        grants.product_key,
        grants.site_id,
        grants.role_id,
        grants.role_id in {{ sql_string_list(var('seat_role_ids')) }} as is_seat_role,
        grants.role_id in {{ sql_string_list(var('admin_role_ids')) }} as is_admin_role
    from memberships
    inner join grants
        on {{ same_in_org('memberships', 'grants', 'group_id') }}
    left join groups
        on {{ same_in_org('memberships', 'groups', 'group_id') }}
    where grants.product_key is not null and grants.site_id is not null
)

select * from final
