select case when t ~ '^[0-9]{6}$' then t end
from (select regexp_replace(normalize(coalesce(value, ''), NFKC), '^\s+|\s+$', '', 'g') as t) as v
