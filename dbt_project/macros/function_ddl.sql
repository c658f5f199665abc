{#- The std functions (functions/) are PARALLEL SAFE, and may be written in PL/pgSQL
    (config `body_language`); dbt's own scalar UDF DDL on postgres writes neither. -#}
{% macro postgres__scalar_function_volatility_sql() %}
    {{ default__scalar_function_volatility_sql() }}
    {%- if model.config.get('parallel') %} PARALLEL {{ model.config.get('parallel') | upper }}{% endif %}
{% endmacro %}

{% macro postgres__scalar_function_body_sql() %}
    $$
       {{ model.compiled_code }}
    $$ LANGUAGE {{ model.config.get('body_language', 'sql') }}
{% endmacro %}
