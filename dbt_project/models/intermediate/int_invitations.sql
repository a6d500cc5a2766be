-- One row per invitation (org, invited user, invited_at).
-- Invites come from the audit log. The log keeps 180 days, so a user an admin invited earlier
-- (management_source = 'invited') with no invite event gets one estimated invitation at
-- added_to_org_at, the moment the invite put them in the directory; its inviter is unknown.
with

events as (
    select * from {{ ref('int_audit_events__categorised') }}
),

users as (
    select * from {{ ref('int_users__latest') }}
),

invite_events as (
    select
        org_id,
        subject_account_id as account_id,
        event_at as invited_at,
        actor_account_id as invited_by_account_id,
        event_id as invite_event_id,
        'audit_log' as invitation_source
    from events
    where
        lifecycle_category = 'invited'
        and subject_account_id is not null
        and event_at is not null
    -- the same invite logged twice at the same instant (two actions) is one invitation
    qualify row_number() over (
        partition by org_id, subject_account_id, event_at
        order by event_id
    ) = 1
),

fallback_invitations as (
    select
        users.org_id,
        users.account_id,
        users.added_to_org_at as invited_at,
        cast(null as varchar) as invited_by_account_id,
        cast(null as varchar) as invite_event_id,
        'added_to_org' as invitation_source
    from users
    where
        users.management_source = 'invited'
        and users.added_to_org_at is not null
        and not exists (
            select 1
            from invite_events
            where {{ same_in_org('invite_events', 'users', 'account_id') }}
        )
),

final as (
    select * from invite_events
    union all
    select * from fallback_invitations
)

select * from final
