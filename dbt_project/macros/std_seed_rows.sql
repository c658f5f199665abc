{#- A seed's rows, for a std function (functions/) whose body writes them in as constants:
    the function reads no table when it runs, so it stays immutable and as fast as a
    hand-written literal, and the list has one home, the seed. ref() makes dbt load the seed
    before it builds the function. -#}
{% macro std_seed_rows(seed, columns, order_by) %}
    {%- set relation = ref(seed) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set sql = 'select ' ~ columns | join(', ') ~ ' from ' ~ relation ~ ' order by ' ~ order_by -%}
    {{ return(run_query(sql).rows) }}
{% endmacro %}

{#- A value as a SQL string literal. -#}
{% macro std_text(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}
