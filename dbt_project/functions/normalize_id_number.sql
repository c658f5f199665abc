select case
    when v ~ '^[0-9]{15}$'
         and {{ function('is_date') }}(1900 + substr(v, 7, 2)::int, substr(v, 9, 2)::int, substr(v, 11, 2)::int)
        then substr(v, 1, 6) || '19' || substr(v, 7, 9)
             || {{ function('id_check_char') }}(substr(v, 1, 6) || '19' || substr(v, 7, 9))
    else v
end
from (select upper({{ function('compact') }}(value)) as v) as cleaned
