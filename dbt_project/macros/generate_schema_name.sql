{#- Use the configured schema name as is: models land in the warehouse layer
    schemas (staging, intermediate, mdm), not in "<target>_<schema>". -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
