{#
    Helpers for the staging layer, the only layer that reads the sources (`raw`, written by dlt, and
    `reclaim`, the journal seatwatch reclaim writes).

    Each source table declares its columns in the sources yml, as its writer creates them: the dlt source
    types every raw column (pipeline/sources/atlassian_admin/schema.py), so dlt creates all of them with the
    table, filled or not, and the journal is created whole (pipeline/reclaim/journal.py). Staging selects
    and casts them by name. What may be missing is a whole table (tests/dbt/test_sources.py checks the
    declarations against both writers).
#}

{% macro source_or_empty(source_name, table_name) -%}
    {#-
        The source table, or an empty stand-in with its declared columns while its writer has not created it:
        dlt creates a table with its first row (no audit events yet, the per_user strategy never writes
        user_product_access, nobody holds a direct grant), and the journal exists from the first reclaim
        apply. `source()` is always called, so lineage and Dagster's dependencies stay the same either way.
    -#}
    {%- set relation = source(source_name, table_name) -%}
    {%- if execute and adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier) is none -%}
        {%- set node = graph.sources['source.' ~ project_name ~ '.' ~ source_name ~ '.' ~ table_name] -%}
        (
            select
                {% for column in node.columns.values() -%}
                    cast(null as {{ column.data_type }}) as {{ column.name }}{{ ',' if not loop.last }}
                {% endfor -%}
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
