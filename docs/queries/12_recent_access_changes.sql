-- Lifecycle changes seen in the audit log over the last 30 days of data.
select
    org_id,
    lifecycle_category,
    count(*) as events,
    min(event_at) as first_seen,
    max(event_at) as last_seen
from marts.fct_audit_events
where lifecycle_category not in ('login', 'other')
    and event_at >= (select max(event_at) from marts.fct_audit_events) - interval 30 day
group by all
order by events desc
