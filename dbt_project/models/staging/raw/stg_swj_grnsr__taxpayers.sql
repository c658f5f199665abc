-- Tax: individual taxpayers, pulled from the front-end database.
with current_record as {{ current_records('swj_grnsr', ['djxh']) }}

select
    btrim(djxh) as record_key,
    btrim(sfzjlx) as id_type,
    case when btrim(sfzjlx) = '201' then {{ function('normalize_id_number') }}(sfzjhm)
         else {{ function('clean_code') }}(sfzjhm) end as id_number,
    btrim(sfzjlx) = '201' and {{ function('is_valid_id_number') }}({{ function('normalize_id_number') }}(sfzjhm)) as id_number_valid,
    xm as name_raw,
    {{ function('clean_name') }}(xm) as name,
    {{ function('name_key') }}(xm) as name_key,
    {{ function('sex_code') }}(xb) as sex_code,
    {{ function('date_value') }}(csrq) as birth_date,
    {{ function('mobile') }}(lxdh) as mobile,
    {{ function('clean_address') }}(jzdz) as residential_address,
    {{ function('date_value') }}(djrq) as registration_date,
    {{ function('gxsj') }}(gxsj) as updated_at,
    _delivery_id as delivery_id
from current_record
