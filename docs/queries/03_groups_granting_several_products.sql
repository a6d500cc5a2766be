-- Groups that grant more than one product: removing someone from them takes away more than one seat.
select
    org_id,
    granting_group_names as group_name,
    count(distinct product_key) as products_granted,
    string_agg(distinct product_key, ', ' order by product_key) as products,
    count(distinct account_id) as members_with_access
from marts.fct_user_product_access
where has_access and granting_group_names is not null and granting_group_names not like '%,%'
group by all
having count(distinct product_key) > 1
order by products_granted desc, members_with_access desc
