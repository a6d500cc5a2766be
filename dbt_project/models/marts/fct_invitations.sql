-- One row per invitation (org, user, invited_at): who invited whom, whether and when it was accepted.
-- Accepted = the first product activity observed at or after the invite (Atlassian records no
-- "accepted" event); cancelled = the user was removed, deactivated or closed before any such activity.
with

invitations as (
    select * from {{ ref('int_invitations') }}
),

observations as (
    select * from {{ ref('stg_atlassian__user_product_last_active') }}
),

users as (
    select * from {{ ref('int_users__lifecycle') }}
),

as_of as (
    select * from {{ ref('int_orgs__as_of') }}
),

-- every observation, not the per-product summary: a re-invited user's earlier activity must not count
known_activity as (
    select
        observations.org_id,
        observations.account_id,
        observations.last_active_date,
        observations.last_active_at
    from observations
    inner join as_of
        on observations.org_id = as_of.org_id
    where {{ known_at_as_of('observations', 'as_of') }}
),

acceptances as (
    select
        invitations.org_id,
        invitations.account_id,
        invitations.invited_at,
        -- an observation with a date only cannot be earlier than the invite on the same day
        min(greatest({{ active_at('known_activity') }}, invitations.invited_at)) as accepted_at
    from invitations
    inner join known_activity
        on
            {{ same_in_org('invitations', 'known_activity', 'account_id') }}
            and (
                invitations.invited_at <= known_activity.last_active_at
                or (
                    known_activity.last_active_at is null
                    and {{ utc_date('invitations.invited_at') }} <= known_activity.last_active_date
                )
            )
    group by invitations.org_id, invitations.account_id, invitations.invited_at
),

statused as (
    select
        invitations.org_id,
        invitations.account_id,
        invitations.invited_at,
        invitations.invited_by_account_id,
        acceptances.accepted_at,
        as_of.as_of_date,
        invitations.invitation_source,
        invitations.invite_event_id,
        case
            when acceptances.accepted_at is not null then 'accepted'
            when users.lifecycle_status in ('removed', 'deactivated', 'closed') then 'cancelled'
            else 'pending'
        end as invitation_status
    from invitations
    inner join as_of
        on invitations.org_id = as_of.org_id
    left join acceptances
        on {{ same_in_org('invitations', 'acceptances', ['account_id', 'invited_at']) }}
    left join users
        on {{ same_in_org('invitations', 'users', 'account_id') }}
),

final as (
    select
        org_id,
        account_id,
        invited_at,
        invited_by_account_id,
        accepted_at,
        cast(date_diff('day', {{ utc_date('invited_at') }}, {{ utc_date('accepted_at') }}) as bigint)
            as days_to_accept,
        invitation_status,
        case
            when invitation_status = 'pending'
                then cast({{ days_since(utc_date('invited_at'), 'as_of_date') }} as bigint)
        end as days_pending,
        as_of_date,
        ---------- beyond the contract
        invitation_source,
        invite_event_id
    from statused
)

select * from final
