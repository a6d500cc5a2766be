{#
    The users listing lands twice in raw: `users` (current state) and `user_snapshots` (one copy per day).
    Both have the same columns, so both staging models type and rename them here, once.
#}
{% macro atlassian_user_columns(relation) -%}
    {%- set columns = raw_column_names(relation) -%}
        ---------- ids
        cast(org_id as varchar) as org_id,
        cast(account_id as varchar) as account_id,
        {{ column_or_null(columns, 'run_id', 'varchar') }} as run_id,

        ---------- account and membership
        {{ column_or_null(columns, 'account_type', 'varchar') }} as account_type,
        {{ column_or_null(columns, 'account_status', 'varchar') }} as account_status,
        {{ column_or_null(columns, 'membership_status', 'varchar') }} as membership_status,
        -- the API's composite status (active / suspended / not_invited / deactivated / for_deletion)
        {{ column_or_null(columns, 'status', 'varchar') }} as user_status,
        {{ column_or_null(columns, 'claim_status', 'varchar') }} as claim_status,
        {{ column_or_null(columns, 'management_source', 'varchar') }} as management_source,
        -- a JSON list in raw; a typed list here, empty when the API sent none
        coalesce(
            from_json({{ column_or_null(columns, 'platform_roles', 'json') }}, '["varchar"]'),
            cast([] as varchar [])
        ) as platform_roles,

        ---------- person
        {{ column_or_null(columns, 'name', 'varchar') }} as display_name,
        {{ column_or_null(columns, 'nickname', 'varchar') }} as nickname,
        -- users may hide their email: then it is null (and dlt may not have created the column at all)
        nullif(trim({{ column_or_null(columns, 'email', 'varchar') }}), '') as email,
        lower(nullif(split_part({{ column_or_null(columns, 'email', 'varchar') }}, '@', 2), '')) as email_domain,
        {{ column_or_null(columns, 'job_title', 'varchar') }} as job_title,
        {{ column_or_null(columns, 'department', 'varchar') }} as department,

        ---------- booleans
        {{ column_or_null(columns, 'email_verified', 'boolean') }} as is_email_verified,
        {{ column_or_null(columns, 'is_mfa_enabled', 'boolean') }} as is_mfa_enabled,
        {{ column_or_null(columns, 'is_for_deletion', 'boolean') }} as is_for_deletion,

        ---------- timestamps
        {{ column_or_null(columns, 'added_to_org_at', 'timestamptz') }} as added_to_org_at,
        -- the API calls it deactivatedOn but sends a date-time
        {{ column_or_null(columns, 'deactivated_on', 'timestamptz') }} as deactivated_at,
        cast(extracted_at as timestamptz) as extracted_at,
        cast(snapshot_date as date) as snapshot_date
{%- endmacro %}
