{#
    `columns` form the key of the model: no part of it is null and no combination occurs twice.
    One query instead of a not_null test per column plus a uniqueness test (dbt_utils'
    unique_combination_of_columns, which hub packages would bring, is not available offline).
#}
{% test primary_key(model, columns) %}

with

keys as (
    select
        {{ columns | join(', ') }},
        count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
)

select *
from keys
where
    occurrences > 1
    {% for column in columns %}or {{ column }} is null
    {% endfor %}

{% endtest %}
