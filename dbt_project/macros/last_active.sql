{#
    Two rules of a last-active observation (stg_atlassian__user_product_last_active), for the models that
    read the observations themselves: int_user_products__activity (per seat) and fct_invitations (every
    observation, so activity before a re-invite does not accept it). Written once, so the two cannot
    disagree on when a user was active or on what the as-of run could know.
#}

{% macro active_at(observation) -%}
    {#- When the user was active: a date without a time of day counts as midnight UTC of that date. -#}
    coalesce({{ observation }}.last_active_at, cast({{ observation }}.last_active_date as timestamptz))
{%- endmacro %}


{% macro known_at_as_of(observation, as_of) -%}
    {#- What the as-of run could know: an observation made after it (by a run that did not succeed) waits. -#}
    ({{ observation }}.observed_at is null or {{ observation }}.observed_at <= {{ as_of }}.extracted_at)
{%- endmacro %}
