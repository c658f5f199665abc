{#- The moment the credit profile is computed for: the clock (now()) under the scheduler, or
    the end of the replayed business day (environment variable MDM_CREDIT_AS_OF, an ISO timestamp with its zone:
    `mdm run --date`, `mdm credit build --as-of`), so that a replay of a past day judges its
    periods and its sources' freshness on that day, and gives the same profile again. -#}
{% macro credit_as_of() -%}
{#- An environment variable, not a var: a changed var makes dbt parse the whole project
    again (mdm.transform.run_dbt sets it for the credit build alone). -#}
{%- set as_of = env_var('MDM_CREDIT_AS_OF', '') -%}
{%- if as_of -%}
{%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}[+-][0-9]{2}:[0-9]{2}$', as_of) -%}
{{ exceptions.raise_compiler_error("MDM_CREDIT_AS_OF must be an ISO timestamp with its zone, e.g. 2026-11-04T23:59:59+08:00; got " ~ as_of) }}
{%- endif -%}
'{{ as_of }}'::timestamptz
{%- else -%}
now()
{%- endif -%}
{%- endmacro %}
