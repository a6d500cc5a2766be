{#
    Every row is read per org, and an account, group, site or product appears under each org that has it:
    `same_in_org(left, right, keys)`: the rows of two relations name the same thing (`keys`, one column or a
    list) in the same org. Every org-scoped join or `exists` uses it, so none can match across orgs by
    leaving org_id out.
#}

{% macro same_in_org(left, right, keys) -%}
    {{ left }}.org_id = {{ right }}.org_id
    {%- for key in ([keys] if keys is string else keys) %}
    and {{ left }}.{{ key }} = {{ right }}.{{ key }}
    {%- endfor %}
{%- endmacro %}


{#
    A seat is one (org, user, product, site). `same_seat(left, right)`: the rows of two relations name the
    same seat; the one condition every join or `exists` on a seat uses, so none can leave a column out.
#}

{% macro same_seat(left, right) -%}
    {{ same_in_org(left, right, ['account_id', 'product_key', 'site_id']) }}
{%- endmacro %}
