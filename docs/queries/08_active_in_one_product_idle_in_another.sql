-- Users who are active in one product but idle (or never active) in another they hold a seat for:
-- the classic "has Confluence because everyone does" seat.
with seats as (
    select org_id, account_id, product_key, site_url, has_access, activity_bucket, days_since_last_active
    from marts.fct_user_product_access
)
select
    idle.org_id,
    u.display_name,
    u.email,
    busy.product_key as active_in,
    idle.product_key as idle_in,
    idle.site_url,
    idle.activity_bucket as idle_bucket
from seats as idle
inner join seats as busy
    on idle.org_id = busy.org_id and idle.account_id = busy.account_id
    and idle.product_key <> busy.product_key
inner join marts.dim_users as u
    on idle.org_id = u.org_id and idle.account_id = u.account_id
where idle.has_access
    and idle.activity_bucket in ('91-180', '181+', 'never')
    and busy.activity_bucket = '0-30'
order by u.email, idle.product_key
