select case when d ~ '^1[3-9][0-9]{9}$' then d end
from (select case when length(x) = 13 and x like '86%' then substr(x, 3) else x end as d
      from (select regexp_replace(normalize(coalesce(value, ''), NFKC), '[^0-9]', '', 'g') as x) as a) as b
