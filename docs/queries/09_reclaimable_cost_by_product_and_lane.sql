-- What could be reclaimed, per product and lane, and what it costs each month.
select
    org_id,
    product_key,
    reclaim_lane,
    reclaim_reason,
    count(*) as seats,
    sum(monthly_seat_price) as monthly_cost
from marts.fct_user_product_access
where is_reclaim_candidate
group by all
order by monthly_cost desc nulls last
