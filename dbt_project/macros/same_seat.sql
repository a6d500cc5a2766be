{#
    A seat is one (org, user, product, site). `same_seat(left, right)`: the rows of two relations name the
    same seat; the one condition every join or `exists` on a seat uses, so none can leave a column out.
#}

{% macro same_seat(left, right) -%}
    {{ left }}.org_id = {{ right }}.org_id
    and {{ left }}.account_id = {{ right }}.account_id
    and {{ left }}.product_key = {{ right }}.product_key
    and {{ left }}.site_id = {{ right }}.site_id
{%- endmacro %}
