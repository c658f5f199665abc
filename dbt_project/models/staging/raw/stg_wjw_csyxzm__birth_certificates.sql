-- Health: birth certificates (one row, up to three people: XSE newborn, MQ mother, FQ father).
with current_record as {{ current_records('wjw_csyxzm', ['cszmbh']) }}

select
    btrim(cszmbh) as record_key,
    xsexm as xse_name_raw,
    {{ function('clean_name') }}(xsexm) as xse_name,
    {{ function('name_key') }}(xsexm) as xse_name_key,
    {{ function('sex_code') }}(xsexb) as xse_sex_code,
    {{ function('date_value') }}(cssj) as xse_birth_date,
    {{ function('division_code') }}(csdd_xzqhdm) as birth_division_code,
    {% for role in ['mq', 'fq'] %}
    {{ role }}xm as {{ role }}_name_raw,
    {{ function('clean_name') }}({{ role }}xm) as {{ role }}_name,
    {{ function('name_key') }}({{ role }}xm) as {{ role }}_name_key,
    {{ function('normalize_id_number') }}({{ role }}sfzjhm) as {{ role }}_id_number,
    {{ function('is_valid_id_number') }}({{ function('normalize_id_number') }}({{ role }}sfzjhm)) as {{ role }}_id_number_valid,
    {% endfor %}
    {{ function('date_value') }}(qfrq) as issue_date,
    {{ function('gxsj') }}(gxsj) as updated_at,
    _delivery_id as delivery_id
from current_record
