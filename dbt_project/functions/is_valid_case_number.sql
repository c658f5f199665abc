select {{ function('case_number') }}(value) is not null
