-- Seats that were granted and never used, per site and product.
select
    org_id,
    site_url,
    product_key,
    count(*) as never_used_seats,
    sum(monthly_seat_price) as monthly_cost
from marts.fct_user_product_access
where has_access and activity_bucket = 'never'
group by all
order by never_used_seats desc
