select {{ function('strip_company_form') }}({{ function('name_key') }}(value))
