{#- An amount of money in yuan, rounded to fen: digits with or without thousands separators
    (a separator elsewhere is refused), a decimal point, a minus; ¥ or 人民币 before, 元 or
    万元/万 (x 10,000) after; full width folded. -#}
select case when m is not null
    then round((m[1] || replace(m[2], ',', ''))::numeric
               * case when m[3] like '万%' then 10000 else 1 end, 2) end
from (select regexp_match({{ function('compact') }}(value),
    '^(?:¥|人民币)?(-?)((?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?)(万元|万|元)?$'
) as m) as parsed
