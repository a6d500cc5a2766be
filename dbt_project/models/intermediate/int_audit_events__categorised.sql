-- Audit events with their action labels and a lifecycle category.
-- Atlassian documents display names, not keys, for most lifecycle actions, so a key listed in the seed
-- event_action_categories.csv wins, and any other key is matched on its display name (or, without one,
-- on the key itself with underscores as spaces). First matching pattern wins; the order matters
-- ("reactivated" before "deactivated" would be moot, but "removed from group" must precede "removed").
with

events as (
    select * from {{ ref('stg_atlassian__audit_events') }}
),

event_actions as (
    select * from {{ ref('stg_atlassian__event_actions') }}
),

action_categories as (
    select * from {{ ref('event_action_categories') }}
),

labelled as (
    select
        events.*,
        event_actions.action_display_name,
        event_actions.action_group,
        action_categories.lifecycle_category as mapped_category,
        lower(coalesce(event_actions.action_display_name, replace(events.action, '_', ' '), ''))
            as match_text
    from events
    left join event_actions
        on {{ same_in_org('events', 'event_actions', 'action') }}
    left join action_categories
        on events.action = action_categories.action
),

final as (
    select
        * exclude (mapped_category, match_text),
        coalesce(
            mapped_category,
            case
                -- "Cancelled invitation", "Canceled deletion of account": not the thing itself
                when regexp_matches(match_text, '\bcancel') then 'other'
                when regexp_matches(match_text, '\breactivated?\b') then 'reactivated'
                when regexp_matches(match_text, '\bdeactivated?\b') then 'deactivated'
                when regexp_matches(match_text, '\bsuspend') then 'suspended'
                when regexp_matches(match_text, '\brestored?\b') then 'restored'
                when regexp_matches(match_text, '\brevoked?\b') then 'access_revoked'
                when regexp_matches(match_text, '\bremoved?\b.*\bfrom\b.*\bgroup') then 'access_revoked'
                when regexp_matches(match_text, '\bremoved?\b') then 'removed'
                when regexp_matches(match_text, '\bgranted?\b.*\b(access|role)') then 'access_granted'
                when regexp_matches(match_text, '\badded?\b.*\bto\b.*\bgroup') then 'access_granted'
                when regexp_matches(match_text, '\binvit') then 'invited'
                when regexp_matches(match_text, '\blogged in\b|\blog ?in\b') then 'login'
                else 'other'
            end
        ) as lifecycle_category
    from labelled
)

select * from final
