select case when {{ function('is_valid_id_number') }}(value)
    then make_date(substr(value, 7, 4)::int, substr(value, 11, 2)::int, substr(value, 13, 2)::int) end
