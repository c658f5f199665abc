select case when {{ function('is_valid_id_number') }}(value)
    then case when substr(value, 17, 1)::int % 2 = 1 then '1' else '2' end end
