{% macro journal_table(table_name, columns) -%}
    {#-
        The reclaim journal's table, or an empty relation with `columns` (name: type) when no apply has
        created it yet: a warehouse that never reclaimed anything builds the same marts.
    -#}
    {%- set relation = source('reclaim', table_name) -%}
    {%- if execute and adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier) is none -%}
        (
            select
                {% for name, data_type in columns.items() -%}
                    cast(null as {{ data_type }}) as {{ name }}{{ ',' if not loop.last }}
                {% endfor -%}
            where false
        )
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}


{% macro typed_columns(columns) -%}
    {#- `cast(name as type) as name` for each of `columns` (name: type), comma-separated. -#}
    {%- for name, data_type in columns.items() -%}
        cast({{ name }} as {{ data_type }}) as {{ name }}{{ ', ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
