-- Public security: the resident register. Authoritative for identity attributes.
with current_record as {{ current_records('gat_czrk', ['rybh']) }}

select
    btrim(rybh) as record_key,
    gmsfhm as id_number_raw,
    {{ function('normalize_id_number') }}(gmsfhm) as id_number,
    {{ function('is_valid_id_number') }}({{ function('normalize_id_number') }}(gmsfhm)) as id_number_valid,
    xm as name_raw,
    {{ function('clean_name') }}(xm) as name,
    {{ function('name_key') }}(xm) as name_key,
    {{ function('clean_name') }}(cym) as former_name,
    {{ function('sex_code') }}(xb) as sex_code,
    {{ function('ethnicity_code') }}(mz) as ethnicity_code,
    {{ function('date_value') }}(csrq) as birth_date,
    {{ function('date_flag') }}(csrq) as birth_date_flag,
    {{ function('division_code') }}(hjdz_xzqhdm) as hukou_division_code,
    {{ function('clean_address') }}(hjdz_qhnxxdz) as hukou_address,
    case btrim(ryzt)
        when '0' then 'living' when '1' then 'deceased'
        when '2' then 'moved_out' when '3' then 'cancelled'
    end as status,
    {{ function('date_value') }}(swrq) as death_date,
    {{ function('gxsj') }}(gxsj) as updated_at,
    _delivery_id as delivery_id
from current_record
