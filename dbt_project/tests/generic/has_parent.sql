{#
    Composite relationships test: every row's (`columns`) exists in `to` (the built-in `relationships`
    test takes one column only, and every key here includes org_id). Rows with a null in `columns` pass.
#}
{% test has_parent(model, to, columns) %}

select child.*
from {{ model }} as child
where
    {% for column in columns %}child.{{ column }} is not null{{ ' and ' if not loop.last }}{% endfor %}
    and not exists (
        select 1
        from {{ to }} as parent
        where
            {% for column in columns %}parent.{{ column }} = child.{{ column }}{{ ' and ' if not loop.last }}{% endfor %}
    )

{% endtest %}
