-- One row per group of the org: what it grants and to how many people. A group that grants several
-- products is where reclaiming one seat would take away others (the plan's needs_review lane), so the
-- published copy needs it without exposing staging.
with

groups as (
    select * from {{ ref('stg_atlassian__groups') }}
),

grants as (
    select * from {{ ref('stg_atlassian__group_product_grants') }}
),

memberships as (
    select * from {{ ref('stg_atlassian__group_memberships') }}
),

granted as (
    select
        org_id,
        group_id,
        count(distinct product_key) as products_granted,
        string_agg(distinct product_key, ', ' order by product_key) as granted_product_keys,
        count(distinct product_key || '/' || site_id) as product_instances_granted,
        bool_or(role_id in {{ sql_string_list(var('admin_role_ids')) }}) as grants_admin_role
    from grants
    group by org_id, group_id
),

members as (
    select
        org_id,
        group_id,
        count(distinct account_id) as member_count
    from memberships
    group by org_id, group_id
),

final as (
    select
        groups.org_id,
        groups.group_id,
        groups.group_name,
        groups.directory_id,
        groups.managed_by,
        groups.is_external_synced,
        coalesce(members.member_count, 0) as member_count,
        coalesce(granted.products_granted, 0) as products_granted,
        coalesce(granted.product_instances_granted, 0) as product_instances_granted,
        granted.granted_product_keys,
        coalesce(granted.products_granted, 0) > 1 as is_multi_product,
        coalesce(granted.grants_admin_role, false)
        or regexp_matches(lower(coalesce(groups.group_name, '')), '{{ var("admin_group_name_pattern") }}')
            as is_admin_group
    from groups
    left join members
        on {{ same_in_org('groups', 'members', 'group_id') }}
    left join granted
        on {{ same_in_org('groups', 'granted', 'group_id') }}
)

select * from final
