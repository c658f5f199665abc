{#- Spaces removed, the province written out (added before a prefecture of the seed
    prefectures), old county names replaced by today's (seed county_renames, one replace()
    each; the seed's test keeps a new name from holding an old one, so order does not matter). -#}
{%- set renamed = namespace(expr='t') -%}
{%- for old_name, new_name in std_seed_rows('county_renames', ['old_name', 'new_name'], 'old_name') -%}
    {%- set renamed.expr = 'replace(' ~ renamed.expr ~ ', ' ~ std_text(old_name) ~ ', ' ~ std_text(new_name) ~ ')' -%}
{%- endfor -%}
{%- set prefectures = std_seed_rows('prefectures', ['name'], 'name') | map(attribute=0) | join('|') -%}
select {{ renamed.expr }}
from (select case
    when c like '广西壮族自治区%' then c
    when c like '广西%' then '广西壮族自治区' || substr(c, 3)
    when c ~ {{ std_text('^(' ~ prefectures ~ ')') }} then '广西壮族自治区' || c
    else c end as t
from (select {{ function('compact') }}(value) as c) as compacted) as provinced
