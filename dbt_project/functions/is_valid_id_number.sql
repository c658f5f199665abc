select coalesce(case when value ~ '^[0-9]{17}[0-9X]$'
    then {{ function('is_date') }}(substr(value, 7, 4)::int, substr(value, 11, 2)::int, substr(value, 13, 2)::int)
         and {{ function('id_check_char') }}(substr(value, 1, 17)) = substr(value, 18, 1)
    else false end, false)
