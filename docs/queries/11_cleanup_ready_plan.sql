-- The safe part of the reclamation plan: remove these users from these groups.
select
    org_id,
    email,
    display_name,
    product_key,
    site_url,
    reclaim_reason,
    days_since_last_active,
    groups_to_remove_from,
    monthly_seat_price
from marts.license_reclamation_plan
where reclaim_lane = 'cleanup_ready'
order by monthly_seat_price desc nulls last, days_since_last_active desc nulls last
