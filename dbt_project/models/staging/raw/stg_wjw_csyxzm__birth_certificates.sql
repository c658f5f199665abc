-- Health: birth certificates (one row, up to three people: XSE newborn, MQ mother, FQ father).
with current_record as {{ current_records('wjw_csyxzm', ['cszmbh']) }}

select
    btrim(cszmbh) as record_key,
    xsexm as xse_name_raw,
    std.clean_name(xsexm) as xse_name,
    std.name_key(xsexm) as xse_name_key,
    std.sex_code(xsexb) as xse_sex_code,
    std.date_value(cssj) as xse_birth_date,
    std.division_code(csdd_xzqhdm) as birth_division_code,
    {% for role in ['mq', 'fq'] %}
    {{ role }}xm as {{ role }}_name_raw,
    std.clean_name({{ role }}xm) as {{ role }}_name,
    std.name_key({{ role }}xm) as {{ role }}_name_key,
    std.normalize_id_number({{ role }}sfzjhm) as {{ role }}_id_number,
    std.is_valid_id_number(std.normalize_id_number({{ role }}sfzjhm)) as {{ role }}_id_number_valid,
    {% endfor %}
    std.date_value(qfrq) as issue_date,
    std.gxsj(gxsj) as updated_at,
    _delivery_id as delivery_id
from current_record
