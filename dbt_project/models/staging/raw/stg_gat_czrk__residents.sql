-- Public security: the resident register. Authoritative for identity attributes.
with current_record as {{ current_records('gat_czrk', ['rybh']) }}

select
    btrim(rybh) as record_key,
    gmsfhm as id_number_raw,
    std.normalize_id_number(gmsfhm) as id_number,
    std.is_valid_id_number(std.normalize_id_number(gmsfhm)) as id_number_valid,
    xm as name_raw,
    std.clean_name(xm) as name,
    std.name_key(xm) as name_key,
    std.clean_name(cym) as former_name,
    std.sex_code(xb) as sex_code,
    std.ethnicity_code(mz) as ethnicity_code,
    std.date_value(csrq) as birth_date,
    std.date_flag(csrq) as birth_date_flag,
    std.division_code(hjdz_xzqhdm) as hukou_division_code,
    std.clean_address(hjdz_qhnxxdz) as hukou_address,
    case btrim(ryzt)
        when '0' then 'living' when '1' then 'deceased'
        when '2' then 'moved_out' when '3' then 'cancelled'
    end as status,
    std.date_value(swrq) as death_date,
    std.gxsj(gxsj) as updated_at,
    _delivery_id as delivery_id
from current_record
