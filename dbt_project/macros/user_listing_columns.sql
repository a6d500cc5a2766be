{#
    The columns of a users listing, cast once for the two raw tables that hold one (schema.py gives
    `users` and `user_snapshots` the same columns): `stg_atlassian__users` (the current state, merged on
    org and account) and `stg_atlassian__user_snapshots` (one listing per snapshot day).
#}
{% macro user_listing_columns() %}
        ---------- ids
        cast(org_id as varchar) as org_id,
        cast(account_id as varchar) as account_id,
        cast(run_id as varchar) as run_id,

        ---------- account and membership
        cast(account_type as varchar) as account_type,
        cast(account_status as varchar) as account_status,
        cast(membership_status as varchar) as membership_status,
        -- the API's composite status (active / suspended / not_invited / deactivated / for_deletion)
        cast(status as varchar) as user_status,
        cast(claim_status as varchar) as claim_status,
        cast(management_source as varchar) as management_source,
        -- a JSON list in raw; a typed list here, empty when the API sent none
        coalesce(from_json(platform_roles, '["varchar"]'), cast([] as varchar[])) as platform_roles,

        ---------- person
        cast(name as varchar) as display_name,
        cast(nickname as varchar) as nickname,
        -- users may hide their email: then it is null
        nullif(trim(email), '') as email,
        lower(nullif(split_part(email, '@', 2), '')) as email_domain,
        cast(job_title as varchar) as job_title,
        cast(department as varchar) as department,

        ---------- booleans
        cast(email_verified as boolean) as is_email_verified,
        cast(is_mfa_enabled as boolean) as is_mfa_enabled,
        cast(is_for_deletion as boolean) as is_for_deletion,

        ---------- timestamps
        cast(added_to_org_at as timestamptz) as added_to_org_at,
        -- the API calls it deactivatedOn but sends a date-time
        cast(deactivated_on as timestamptz) as deactivated_at,
        cast(extracted_at as timestamptz) as extracted_at,
        cast(snapshot_date as date) as snapshot_date
{% endmacro %}
