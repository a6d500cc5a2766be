{#
    One product identity across endpoints (README, "Product identity"). Every endpoint names products its
    own way: v1 last-active-dates says `jira-software`, v2 productAccess `jira`, role assignments give only
    an ARI such as `ari:cloud:jira-admin::site/<cloudId>`. Staging keeps what the API said as
    `api_product_key` and publishes the normalised `product_key` from the seed `product_aliases.csv`;
    a key the seed does not know is kept as it came (never dropped) and flagged, so the trust check can
    stop reclaim instead of letting a renamed product look unused.
#}

{% macro api_product_key(key_expression, resource_expression) -%}
    {#- The key the API gave, else the product segment of the ARI (`ari:cloud:<product>::site/<id>`). -#}
    coalesce(
        nullif(lower(trim({{ key_expression }})), ''),
        case
            when {{ resource_expression }} like 'ari:cloud:%'
                then nullif(lower(split_part({{ resource_expression }}, ':', 3)), '')
        end
    )
{%- endmacro %}


{% macro site_from_resource(site_expression, resource_expression) -%}
    {#- The cloud id: what the loader took from the ARI, else whatever follows the ARI's last `/`. -#}
    coalesce(
        nullif({{ site_expression }}, ''),
        nullif(regexp_extract({{ resource_expression }}, '([^/]+)$', 1), '')
    )
{%- endmacro %}


{% macro with_product_identity(relation) -%}
    {#- The body of the CTE that ends a staging model: every row of `relation` (which has an `api_product_key`
        column) with its normalised `product_key` and whether the seed knows the key. The one place the
        alias rule is written. -#}
    select
        {{ relation }}.*,
        coalesce(product_aliases.product_key, {{ relation }}.api_product_key) as product_key,
        product_aliases.alias is not null as is_known_product
    from {{ relation }}
    left join {{ ref('product_aliases') }} as product_aliases
        on {{ relation }}.api_product_key = product_aliases.alias
{%- endmacro %}
