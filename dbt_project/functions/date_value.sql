select ({{ function('parse_date') }}(value)).iso
