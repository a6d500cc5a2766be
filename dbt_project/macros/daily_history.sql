{#
    The config of a history mart (fct_user_status_daily, agg_product_usage_daily): one row per snapshot day
    and `unique_key`, appended by every dbt run. snapshot_date is the UTC date of the as-of run's
    extracted_at, so re-running dbt on the same day (or after a second extract that day) replaces that day
    (delete+insert on the key) instead of adding a second one. Past days cannot be rebuilt from raw (group
    grants are replaced on every load), so `full_refresh=false` keeps the history through a
    `dbt build --full-refresh`; drop the table by hand to really start over.
#}

{% macro daily_history(unique_key) -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=unique_key,
        on_schema_change='append_new_columns',
        full_refresh=false,
    ) }}
{%- endmacro %}
