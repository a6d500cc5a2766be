-- Invites accepted per week, and how long acceptance took.
select
    org_id,
    date_trunc('week', accepted_at)::date as week,
    count(*) as invites_accepted,
    round(avg(days_to_accept), 1) as avg_days_to_accept
from marts.fct_invitations
where invitation_status = 'accepted'
group by all
order by org_id, week
