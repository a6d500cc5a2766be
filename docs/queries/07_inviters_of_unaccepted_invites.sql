-- Who invited the users that never accepted? Useful to ask the inviter whether the seat is still needed.
select
    i.org_id,
    coalesce(inviter.display_name, i.invited_by_account_id, 'unknown (invite older than the audit log)')
        as invited_by,
    count(*) as pending_invites,
    max(i.days_pending) as oldest_pending_days
from marts.fct_invitations as i
left join marts.dim_users as inviter
    on i.org_id = inviter.org_id and i.invited_by_account_id = inviter.account_id
where i.invitation_status = 'pending'
group by all
order by pending_invites desc
