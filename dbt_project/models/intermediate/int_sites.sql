-- One row per (org, site) with a workspace: the site's URL. The URL belongs to the site, so a product
-- instance without one (or missing from the workspaces listing) takes it from any workspace of its site;
-- this is the one place that rule is written.
with

workspaces as (
    select * from {{ ref('stg_atlassian__workspaces') }}
),

final as (
    select
        org_id,
        site_id,
        max(site_url) as site_url
    from workspaces
    where site_id is not null
    group by org_id, site_id
)

select * from final
