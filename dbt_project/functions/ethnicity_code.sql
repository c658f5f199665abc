{#- GB 3304 from a code (8 or 08) or a name (壮族 or 壮); the list is the seed ethnicity_gb3304. -#}
select e.code
from (select regexp_replace(normalize(coalesce(value, ''), NFKC), '^\s+|\s+$', '', 'g') as t) as v
join (values
    {%- for code, name in std_seed_rows('ethnicity_gb3304', ['code', 'name'], 'code') %}
    ({{ std_text(code) }}, {{ std_text(name) }}){{ ',' if not loop.last }}
    {%- endfor %}
) as e(code, name)
  on (v.t ~ '^[0-9]{1,2}$' and lpad(v.t, 2, '0') = e.code) or v.t = e.name or v.t || '族' = e.name
limit 1
