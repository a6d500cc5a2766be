{# Every row satisfies `expression` (a SQL boolean over the model's columns; null counts as false). #}
{% test expression_is_true(model, expression) %}

select *
from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}
