-- Groups that grant more than one product: removing someone from such a group takes away more than the
-- one seat you meant to reclaim (these rows land in the plan's `needs_review` lane).
select
    g.org_id,
    g.group_name,
    count(distinct gr.product_key) as products_granted,
    string_agg(distinct gr.product_key, ', ' order by gr.product_key) as products,
    count(distinct m.account_id) as members
from staging.stg_atlassian__groups as g
inner join staging.stg_atlassian__group_product_grants as gr
    on g.org_id = gr.org_id and g.group_id = gr.group_id
left join staging.stg_atlassian__group_memberships as m
    on g.org_id = m.org_id and g.group_id = m.group_id
group by all
having count(distinct gr.product_key) > 1
order by products_granted desc, members desc
