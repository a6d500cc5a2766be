-- Groups that grant more than one product: removing someone from such a group takes away more than the
-- one seat you meant to reclaim (these rows land in the plan's `needs_review` lane).
select
    org_id,
    group_name,
    products_granted,
    granted_product_keys as products,
    member_count as members
from marts.dim_groups
where is_multi_product
order by products_granted desc, members desc
