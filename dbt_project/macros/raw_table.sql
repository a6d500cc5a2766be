{#
    Helpers for the staging layer, the only layer that reads `raw`.

    The source declares the type of every column it writes (pipeline/sources/atlassian_admin/schema.py), so
    dlt creates all of them with the table, filled or not; staging selects them by name. What dlt does not
    create before it has a row to write is the table itself.
#}

{% macro raw_table(table_name) -%}
    {#-
        The raw table, or an empty stand-in with its declared columns (_atlassian__sources.yml) while dlt has
        not created it: dlt creates a table with its first row (no audit events yet, the per_user strategy
        never writes user_product_access, no user holds a direct grant). `source()` is always called, so
        lineage and Dagster's dlt → dbt dependencies stay the same either way.
    -#}
    {%- set relation = source('raw', table_name) -%}
    {%- if execute and adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier) is none -%}
        {%- set declared = graph.sources['source.' ~ project_name ~ '.raw.' ~ table_name].columns.values() -%}
        (
            select
                {% for column in declared -%}
                    cast(null as {{ column.data_type }}) as {{ column.name }},
                {% endfor -%}
                cast(null as varchar) as _dlt_load_id,
                cast(null as varchar) as _dlt_id
            where false
        )
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}


{% macro latest_load_only(key_columns) -%}
    {#-
        raw may hold one key from several loads (a merge that has not been compacted, a replayed load):
        keep the row of the latest dlt load. Load ids are epoch seconds as text.
    -#}
    qualify row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by try_cast(_dlt_load_id as double) desc nulls last, _dlt_id desc
    ) = 1
{%- endmacro %}
