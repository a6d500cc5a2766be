{#- A list var as an SQL tuple of string literals: ['a', 'b'] → ('a', 'b'). Empty lists never match. -#}
{% macro sql_string_list(values) -%}
    {%- if values | length == 0 -%}
        (null)
    {%- else -%}
        ({%- for value in values -%}'{{ value | replace("'", "''") }}'{{ ", " if not loop.last }}{%- endfor -%})
    {%- endif -%}
{%- endmacro %}
