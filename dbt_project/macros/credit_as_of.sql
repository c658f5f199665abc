{#- The moment the credit profile is computed for: the clock (now()) under the scheduler, or
    the end of the replayed business day (var credit_as_of, an ISO timestamp with its zone:
    `mdm run --date`, `mdm credit build --as-of`), so that a replay of a past day judges its
    periods and its sources' freshness on that day, and gives the same profile again. -#}
{% macro credit_as_of() -%}
{%- set as_of = var('credit_as_of', none) -%}
{%- if as_of -%}
{%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}[+-][0-9]{2}:[0-9]{2}$', as_of) -%}
{{ exceptions.raise_compiler_error("var credit_as_of must be an ISO timestamp with its zone, e.g. 2026-11-04T23:59:59+08:00; got " ~ as_of) }}
{%- endif -%}
'{{ as_of }}'::timestamptz
{%- else -%}
now()
{%- endif -%}
{%- endmacro %}
