-- How many users are in each lifecycle status (invited users are never counted as active).
select
    org_id,
    lifecycle_status,
    count(*) as users
from marts.dim_users
group by all
order by org_id, users desc
