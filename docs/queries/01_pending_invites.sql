-- Who was invited but never accepted, since when, and who invited them?
-- One row per pending invite, oldest first: the people to chase or to revoke.
select
    u.org_id,
    u.display_name,
    u.email,
    i.invited_at,
    i.days_pending,
    inviter.display_name as invited_by
from marts.fct_invitations as i
inner join marts.dim_users as u
    on i.org_id = u.org_id and i.account_id = u.account_id
left join marts.dim_users as inviter
    on i.org_id = inviter.org_id and i.invited_by_account_id = inviter.account_id
where i.invitation_status = 'pending'
order by i.days_pending desc, u.email
