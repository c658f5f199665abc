select case when {{ function('is_valid_uscc') }}(value) then substr(value, 9, 9) end
