-- Jira seats whose holder has not used Jira for more than 90 days (as of the lag-safe as-of date).
select
    a.org_id,
    u.display_name,
    u.email,
    a.site_url,
    a.last_active_date,
    a.days_since_last_active,
    a.granting_group_names
from marts.fct_user_product_access as a
inner join marts.dim_users as u
    on a.org_id = u.org_id and a.account_id = u.account_id
where a.product_key = 'jira'
    and a.has_access
    and a.days_since_last_active > 90
order by a.days_since_last_active desc
