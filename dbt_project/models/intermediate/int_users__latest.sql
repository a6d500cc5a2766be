-- One row per (org, user) ever listed up to the as-of run: the latest attributes, when the user was
-- first and last seen, whether the latest listing still has them (else: removed), and user-level
-- exemptions from reclamation.
with

user_snapshots as (
    select * from {{ ref('int_users__snapshots') }}
),

as_of as (
    select * from {{ ref('int_orgs__as_of') }}
),

exempt_accounts as (
    select * from {{ ref('exempt_accounts') }}
),

-- Listings newer than the as-of run (left by a run that did not succeed) are not trusted yet.
listings as (
    select
        user_snapshots.*,
        (
            user_snapshots.run_id = as_of.run_id
            or (user_snapshots.run_id is null and user_snapshots.snapshot_date = as_of.snapshot_date)
        ) as is_as_of_listing
    from user_snapshots
    inner join as_of
        on user_snapshots.org_id = as_of.org_id
    where user_snapshots.extracted_at <= as_of.extracted_at
),

latest_listing as (
    select * exclude (is_as_of_listing)
    from listings
    qualify row_number() over (
        partition by org_id, account_id
        order by extracted_at desc, snapshot_date desc
    ) = 1
),

presence as (
    select
        org_id,
        account_id,
        min(extracted_at) as first_seen_at,
        max(extracted_at) as last_seen_at,
        bool_or(is_as_of_listing) as is_in_latest_snapshot
    from listings
    group by org_id, account_id
),

listing_times as (
    select distinct
        org_id,
        extracted_at
    from listings
),

-- Removed: seen in an earlier listing, absent from the latest one. The removal is dated by the first
-- listing that no longer had the user (the audit log may not say, and keeps only 180 days).
removals as (
    select
        presence.org_id,
        presence.account_id,
        min(listing_times.extracted_at) as removed_at
    from presence
    inner join listing_times
        on
            presence.org_id = listing_times.org_id
            and presence.last_seen_at < listing_times.extracted_at
    where not presence.is_in_latest_snapshot
    group by presence.org_id, presence.account_id
),

joined as (
    select
        latest_listing.*,
        presence.first_seen_at,
        presence.last_seen_at,
        presence.is_in_latest_snapshot,
        not presence.is_in_latest_snapshot as is_removed,
        removals.removed_at,
        list_contains(latest_listing.platform_roles, 'atlassian/org-admin') as is_org_admin,
        list_contains(latest_listing.platform_roles, 'atlassian/site-admin') as is_site_admin,
        exempt_accounts.account_id is not null as is_listed_exempt,
        exempt_accounts.reason as listed_exempt_reason
    from latest_listing
    inner join presence
        on {{ same_in_org('latest_listing', 'presence', 'account_id') }}
    left join removals
        on {{ same_in_org('latest_listing', 'removals', 'account_id') }}
    left join exempt_accounts
        on latest_listing.account_id = exempt_accounts.account_id
),

-- Accounts whose seats are never reclaimed automatically: admins (losing them locks the org out of its
-- own administration), non-human accounts (apps, customers: account_type other than atlassian; unknown
-- counts as not atlassian) and accounts listed in exempt_accounts.csv. The listed reason comes first
-- because an admin wrote it on purpose.
flagged as (
    select
        *,
        coalesce(account_type, 'unknown') != 'atlassian' as is_not_a_person
    from joined
),

final as (
    select
        * exclude (is_not_a_person),
        (is_listed_exempt or is_org_admin or is_site_admin or is_not_a_person) as is_exempt,
        case
            when is_listed_exempt then coalesce(listed_exempt_reason, 'listed in exempt_accounts.csv')
            when is_org_admin then 'org admin'
            when is_site_admin then 'site admin'
            when is_not_a_person then 'account type ' || coalesce(account_type, 'unknown')
        end as exempt_reason
    from flagged
)

select * from final
