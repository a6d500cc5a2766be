{#
    Date arithmetic against the as-of date. Timestamps are timestamptz; their UTC date is taken
    explicitly so a session time zone other than UTC could never shift a day.
#}

{% macro utc_date(timestamp_expression) -%}
    {#- The UTC calendar date of a timestamptz, whatever the session time zone. -#}
    cast(timezone('UTC', {{ timestamp_expression }}) as date)
{%- endmacro %}


{% macro days_since(date_expression, as_of_date_expression) -%}
    {#-
        Whole days from a date to the as-of date; null when the date is null (greatest() would turn a
        null into 0). Activity the API shows after activity_complete_through counts as 0 days, not -1.
    -#}
    case
        when {{ date_expression }} is not null
            then greatest(date_diff('day', {{ date_expression }}, {{ as_of_date_expression }}), 0)
    end
{%- endmacro %}
