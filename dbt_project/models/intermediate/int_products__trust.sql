-- One row per (org, product): may the plan recommend removing seats of this product without a person
-- looking first? Seatwatch never recommends reclaiming a seat it cannot prove idle, and three things
-- make "idle" unprovable (README, "Fail safe"):
--   * an API product key the alias seed does not know: the org's activity may sit under a name that joins
--     to nothing, so every product of the org is suspect;
--   * activity the as-of run observed on seats no grant or productAccess entry gives access to, beyond a
--     small tolerance: the endpoints disagree on the product's identity. An ex-seat is not such a seat:
--     access the org granted once and that has ended (Seatwatch's own removal in the reclaim journal, an
--     earlier day's productAccess or seat role, an audit event revoking the user's access) while the
--     last-active data still shows its activity (the API does not say whether it keeps a product after its
--     access ends, and an earlier run of the same day keeps its observations). Activity that joins to
--     nothing the org ever granted still counts;
--   * the bulk strategy's productAccess empty for everyone on the as-of day while the warehouse holds
--     recent activity: the expand silently stopped working.
-- An untrusted product keeps its candidates, but none of them is cleanup_ready (int_user_products__reclaim),
-- and the blocking test on this model fails the run with the reason.
with

as_of as (
    select * from {{ ref('int_orgs__as_of') }}
),

extract_runs as (
    select * from {{ ref('stg_atlassian__extract_runs') }}
),

observations as (
    select * from {{ ref('stg_atlassian__user_product_last_active') }}
),

listed_access as (
    select * from {{ ref('stg_atlassian__user_product_access') }}
),

grants as (
    select * from {{ ref('stg_atlassian__group_product_grants') }}
),

assigned_roles as (
    select * from {{ ref('stg_atlassian__user_role_assignments') }}
),

workspaces as (
    select * from {{ ref('stg_atlassian__workspaces') }}
),

access as (
    select * from {{ ref('int_user_products__access') }}
),

activity as (
    select * from {{ ref('int_user_products__activity') }}
),

journal as (
    select * from {{ ref('stg_reclaim__actions') }}
),

audit_events as (
    select * from {{ ref('int_audit_events__categorised') }}
),

products as (
    select
        org_id,
        product_key
    from access
    union
    select
        org_id,
        product_key
    from activity
    union
    select
        org_id,
        product_key
    from workspaces
    where product_key is not null
),

api_keys as (
    select
        org_id,
        api_product_key,
        is_known_product
    from observations
    union
    select
        org_id,
        api_product_key,
        is_known_product
    from listed_access
    union
    select
        org_id,
        api_product_key,
        is_known_product
    from grants
    union
    select
        org_id,
        api_product_key,
        is_known_product
    from assigned_roles
    union
    select
        org_id,
        api_product_key,
        is_known_product
    from workspaces
),

unknown_keys as (
    select
        org_id,
        string_agg(distinct api_product_key, ', ' order by api_product_key) as unknown_product_keys
    from api_keys
    where not is_known_product and api_product_key is not null
    group by org_id
),

-- Seats whose activity the as-of run itself observed: the API shows them now, so access should exist now.
observed_seats as (
    select distinct
        observations.org_id,
        observations.account_id,
        observations.product_key,
        observations.site_id
    from observations
    inner join as_of
        on
            observations.org_id = as_of.org_id
            and observations.observed_at = as_of.extracted_at
),

-- Seats the org granted at some point, held now or not: any day's productAccess listing or seat role, and
-- the seats Seatwatch's own applied removals took away.
ever_granted as (
    select
        org_id,
        account_id,
        product_key,
        site_id
    from listed_access
    union
    select
        org_id,
        account_id,
        product_key,
        site_id
    from assigned_roles
    where not is_inferred_only and role_id in {{ sql_string_list(var('seat_role_ids')) }}
    union
    select
        org_id,
        account_id,
        product_key,
        site_id
    from journal
    where action = 'remove_group_member' and state = 'applied'
),

-- Users whose access someone ended, per the audit log: on one site, or (no site named) on any.
revocations as (
    select distinct
        org_id,
        subject_account_id as account_id,
        site_id
    from audit_events
    where lifecycle_category in ('access_revoked', 'removed') and subject_account_id is not null
),

seat_matches as (
    select
        observed_seats.*,
        access.account_id is not null as has_access,
        access.account_id is null
        and (
            exists (
                select 1
                from ever_granted
                where {{ same_seat('ever_granted', 'observed_seats') }}
            )
            or exists (
                select 1
                from revocations
                where
                    {{ same_in_org('revocations', 'observed_seats', 'account_id') }}
                    and coalesce(revocations.site_id = observed_seats.site_id, true)
            )
        ) as is_ex_seat
    from observed_seats
    left join access
        on {{ same_seat('observed_seats', 'access') }}
),

matching as (
    select
        org_id,
        product_key,
        count(*) as observed_seats,
        count(*) filter (where is_ex_seat) as ended_seats,
        count(*) filter (where not has_access and not is_ex_seat) as unmatched_seats
    from seat_matches
    group by org_id, product_key
),

-- The as-of run used the bulk strategy, listed no productAccess entry for anyone, yet the warehouse holds
-- activity from the last 30 days.
bulk_listing as (
    select
        as_of.org_id,
        coalesce(extract_runs.last_active_strategy, '') = 'bulk'
        and not exists (
            select 1
            from listed_access
            where {{ same_in_org('listed_access', 'as_of', 'snapshot_date') }}
        )
        and exists (
            select 1
            from observations
            where
                observations.org_id = as_of.org_id
                and observations.last_active_date >= as_of.as_of_date - interval 30 day
        ) as is_bulk_listing_empty
    from as_of
    left join extract_runs
        on {{ same_in_org('as_of', 'extract_runs', 'run_id') }}
),

final as (
    select
        products.org_id,
        products.product_key,
        coalesce(matching.observed_seats, 0) as observed_seats,
        coalesce(matching.ended_seats, 0) as ended_seats,
        coalesce(matching.unmatched_seats, 0) as unmatched_seats,
        unknown_keys.unknown_product_keys,
        coalesce(bulk_listing.is_bulk_listing_empty, false) as is_bulk_listing_empty,
        coalesce(matching.unmatched_seats, 0) > {{ var('unmatched_activity_min_seats') }}
        and coalesce(matching.unmatched_seats, 0)
        > {{ var('unmatched_activity_tolerance') }} * coalesce(matching.observed_seats, 0)
            as is_activity_unmatched
    from products
    left join matching
        on {{ same_in_org('products', 'matching', 'product_key') }}
    left join unknown_keys
        on products.org_id = unknown_keys.org_id
    left join bulk_listing
        on products.org_id = bulk_listing.org_id
),

judged as (
    select
        *,
        concat_ws(
            '; ',
            case
                when unknown_product_keys is not null
                    then
                        'unknown product key(s) ' || unknown_product_keys
                        || ': add them to product_aliases.csv'
            end,
            case
                when is_activity_unmatched
                    then
                        unmatched_seats || ' of ' || observed_seats
                        || ' seats with activity have no matching access'
            end,
            case
                when is_bulk_listing_empty
                    then 'productAccess was empty for every user while last-active dates show use'
            end
        ) as untrusted_reason
    from final
)

select
    org_id,
    product_key,
    observed_seats,
    ended_seats,
    unmatched_seats,
    unknown_product_keys,
    is_bulk_listing_empty,
    is_activity_unmatched,
    untrusted_reason = '' as is_trusted,
    nullif(untrusted_reason, '') as untrusted_reason
from judged
