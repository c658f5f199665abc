-- Human resources & social security: one row per insured person and insurance type.
with current_record as {{ current_records('rst_cbry', ['grbh', 'xzlx']) }}

select
    btrim(grbh) || '_' || btrim(xzlx) as record_key,
    btrim(grbh) as insured_number,
    {{ function('normalize_id_number') }}(shbzhm) as id_number,
    {{ function('is_valid_id_number') }}({{ function('normalize_id_number') }}(shbzhm)) as id_number_valid,
    xm as name_raw,
    {{ function('clean_name') }}(xm) as name,
    {{ function('name_key') }}(xm) as name_key,
    {{ function('sex_code') }}(xb) as sex_code,
    {{ function('date_value') }}(csrq) as birth_date,
    {{ function('mobile') }}(sjhm) as mobile,
    btrim(dwbh) as employer_number,
    dwmc as employer_name_raw,
    {{ function('clean_name') }}(dwmc) as employer_name,
    {{ function('clean_code') }}(dwtyxydm) as employer_uscc,
    btrim(xzlx) as insurance_type,
    case btrim(cbzt) when '1' then 'paying' when '2' then 'suspended' when '3' then 'terminated' end
        as insurance_status,
    {{ function('date_value') }}(cbrq) as enrolment_date,
    {{ function('gxsj') }}(gxsj) as updated_at,
    _delivery_id as delivery_id
from current_record
