-- One row per (org, user, product, site) with any activity ever observed, over every last-active
-- observation in the warehouse (a later response may no longer show older activity).
with

observations as (
    select * from {{ ref('stg_atlassian__user_product_last_active') }}
),

as_of as (
    select * from {{ ref('int_orgs__as_of') }}
),

known as (
    select
        observations.*,
        {{ active_at('observations') }} as active_at
    from observations
    inner join as_of
        on observations.org_id = as_of.org_id
    where {{ known_at_as_of('observations', 'as_of') }}
),

final as (
    select
        org_id,
        account_id,
        product_key,
        site_id,
        min(active_at) as first_active_at,
        max(active_at) as last_active_at,
        max(last_active_date) as last_active_date
    from known
    group by org_id, account_id, product_key, site_id
)

select * from final
