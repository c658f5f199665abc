select nullif(upper(replace({{ function('compact') }}(value), '-', '')), '')
