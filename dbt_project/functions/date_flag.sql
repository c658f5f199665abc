select ({{ function('parse_date') }}(value)).flag
