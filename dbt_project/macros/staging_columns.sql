{#
    Helpers for the staging layer, the only layer that reads `raw`.

    dlt creates a column only once it has seen a non-null value for it, so an optional field the API
    never sent (email hidden by every user, deactivated_on, job_title, ...) may be missing from `raw`.
    Staging models therefore look up the raw columns once and select each optional column only if it
    exists, else a typed null, so downstream models always see the same columns.
#}

{% macro raw_column_names(relation) -%}
    {#- Lower-case names of the columns of `relation`; empty while parsing (no database access then). -#}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- do names.append(column.name | lower) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}


{% macro column_or_null(existing_columns, column_name, data_type) -%}
    {%- if column_name | lower in existing_columns -%}
        cast({{ column_name }} as {{ data_type }})
    {%- else -%}
        cast(null as {{ data_type }})
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


{% macro raw_table(table_name, key_columns) -%}
    {#-
        The raw table, or an empty relation with its key columns when dlt has not created it yet: dlt
        creates a table only once a resource yields rows (no audit events yet, the per_user strategy never
        writes user_product_access, an org nobody has used). `source()` is always called, so lineage and
        Dagster's dlt → dbt dependencies stay the same either way.
    -#}
    {%- set relation = source('raw', table_name) -%}
    {%- if execute and adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier) is none -%}
        (
            select
                {% for column in key_columns -%}
                    cast(null as varchar) as {{ column }},
                {% endfor -%}
                cast(null as varchar) as _dlt_load_id,
                cast(null as varchar) as _dlt_id
            where false
        )
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
