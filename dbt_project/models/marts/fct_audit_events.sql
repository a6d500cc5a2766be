-- One row per audit event (org, event id), with its action labels and lifecycle category.
with

events as (
    select * from {{ ref('int_audit_events__categorised') }}
),

final as (
    select
        org_id,
        event_id,
        event_at,
        processed_at,
        action,
        action_display_name,
        action_group,
        lifecycle_category,
        actor_account_id,
        actor_name,
        subject_account_id,
        site_id,
        site_host,
        ip,
        country,
        ---------- beyond the contract
        city,
        message
    from events
)

select * from final
