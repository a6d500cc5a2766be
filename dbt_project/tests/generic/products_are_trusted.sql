{#
    Blocking: every product of the plan is trusted (int_products__trust). Placed on a leaf mart so that a
    failure stops the run without skipping the marts: they are built with no cleanup_ready row for the
    untrusted product, and the published copy carries that safe plan.
#}
{% test products_are_trusted(model, trust) %}

select
    org_id,
    product_key,
    untrusted_reason
from {{ trust }}
where not is_trusted

{% endtest %}
