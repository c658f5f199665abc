-- Tax: individual taxpayers, pulled from the front-end database.
with current_record as {{ current_records('swj_grnsr', ['djxh']) }}

select
    btrim(djxh) as record_key,
    btrim(sfzjlx) as id_type,
    case when btrim(sfzjlx) = '201' then std.normalize_id_number(sfzjhm)
         else std.clean_code(sfzjhm) end as id_number,
    btrim(sfzjlx) = '201' and std.is_valid_id_number(std.normalize_id_number(sfzjhm)) as id_number_valid,
    xm as name_raw,
    std.clean_name(xm) as name,
    std.name_key(xm) as name_key,
    std.sex_code(xb) as sex_code,
    std.date_value(csrq) as birth_date,
    std.mobile(lxdh) as mobile,
    std.clean_address(jzdz) as residential_address,
    std.date_value(djrq) as registration_date,
    std.gxsj(gxsj) as updated_at,
    _delivery_id as delivery_id
from current_record
