-- Civil affairs: marriage and divorce registrations (one row, two people: NAN, NV).
with current_record as {{ current_records('mzt_hydj', ['ywlsh']) }}

select
    btrim(ywlsh) as record_key,
    case btrim(ywlx) when '1' then 'marriage' when '2' then 'divorce' end as registration_type,
    {{ function('date_value') }}(djrq) as registration_date,
    djjg as registering_office,
    {% for role in ['nan', 'nv'] %}
    {{ role }}_xm as {{ role }}_name_raw,
    {{ function('clean_name') }}({{ role }}_xm) as {{ role }}_name,
    {{ function('name_key') }}({{ role }}_xm) as {{ role }}_name_key,
    btrim({{ role }}_zjlx) as {{ role }}_id_type,
    case when btrim({{ role }}_zjlx) = '111' then {{ function('normalize_id_number') }}({{ role }}_zjhm)
         else {{ function('clean_code') }}({{ role }}_zjhm) end as {{ role }}_id_number,
    btrim({{ role }}_zjlx) = '111'
        and {{ function('is_valid_id_number') }}({{ function('normalize_id_number') }}({{ role }}_zjhm)) as {{ role }}_id_number_valid,
    {{ function('date_value') }}({{ role }}_csrq) as {{ role }}_birth_date,
    upper(btrim({{ role }}_gj)) as {{ role }}_nationality,
    {% endfor %}
    {{ function('gxsj') }}(gxsj) as updated_at,
    _delivery_id as delivery_id
from current_record
