select coalesce(v ~ '^[0-9A-Z]{9}$' and {{ function('org_code_check_char') }}(substr(v, 1, 8)) = substr(v, 9, 1), false)
from (select case when length(value) = 10 and substr(value, 9, 1) = '-'
                  then replace(value, '-', '') else value end as v) as compacted
