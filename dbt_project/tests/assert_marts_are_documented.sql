{#
    Every marts model, and every column of it, has a description. persist_docs turns them into DuckDB
    comments, which is how analysts and BI tools learn what a column means (data contract: "Every table
    in marts has a description, and every column a comment"). Runs on the manifest, not on data.
#}
{% set missing = [] %}
{% if execute %}
    {% for node in graph.nodes.values()
        if node.resource_type == 'model' and node.config.schema == 'marts' %}
        {% if not node.description | trim %}
            {% do missing.append((node.name, '(model)')) %}
        {% endif %}
        {% for column in node.columns.values() if not column.description | trim %}
            {% do missing.append((node.name, column.name)) %}
        {% endfor %}
    {% endfor %}
{% endif %}

{% if missing %}
    {% for model_name, column_name in missing %}
        select '{{ model_name }}' as model_name, '{{ column_name }}' as column_name
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
{% else %}
    select null as model_name, null as column_name
    where false
{% endif %}
