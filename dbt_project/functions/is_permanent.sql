select coalesce({{ function('valid_until') }}(value) = date '9999-12-31', false)
