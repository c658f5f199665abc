-- Human resources & social security: one row per insured person and insurance type.
with current_record as {{ current_records('rst_cbry', ['grbh', 'xzlx']) }}

select
    btrim(grbh) || '_' || btrim(xzlx) as record_key,
    btrim(grbh) as insured_number,
    std.normalize_id_number(shbzhm) as id_number,
    std.is_valid_id_number(std.normalize_id_number(shbzhm)) as id_number_valid,
    xm as name_raw,
    std.clean_name(xm) as name,
    std.name_key(xm) as name_key,
    std.sex_code(xb) as sex_code,
    std.date_value(csrq) as birth_date,
    std.mobile(sjhm) as mobile,
    btrim(dwbh) as employer_number,
    dwmc as employer_name_raw,
    std.clean_name(dwmc) as employer_name,
    std.clean_code(dwtyxydm) as employer_uscc,
    btrim(xzlx) as insurance_type,
    case btrim(cbzt) when '1' then 'paying' when '2' then 'suspended' when '3' then 'terminated' end
        as insurance_status,
    std.date_value(cbrq) as enrolment_date,
    std.gxsj(gxsj) as updated_at,
    _delivery_id as delivery_id
from current_record
