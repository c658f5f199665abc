{% macro analyst_person_key(pseudonym, person_id) -%}
{#-
    What analysts see for a person: the pseudonym, or for a person that has none yet (published
    before the refresh_access step wrote it) an interim key, a hash of the person id with the
    random salt in access.analyst_key_salt. Never the person id itself. The model must join
    the salt table as `key_salt` (see analyst_key_salt_join).
-#}
coalesce(
    {{ pseudonym }},
    'interim-' || left(encode(sha256(convert_to(key_salt.salt || {{ person_id }}, 'UTF8')), 'hex'), 20)
)
{%- endmacro %}

{% macro analyst_key_salt_join() -%}
{#- A left join: were the salt row ever lost, interim keys become null, the rows stay. -#}
left join {{ source('access', 'analyst_key_salt') }} as key_salt on true
{%- endmacro %}
