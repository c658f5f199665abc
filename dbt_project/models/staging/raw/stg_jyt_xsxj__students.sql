-- Education: student registrations (one row, two people: XS student, JHR guardian).
with current_record as {{ current_records('jyt_xsxj', ['xsid']) }}

select
    btrim(xsid) as record_key,
    btrim(qgxjh) as national_student_number,
    xm as xs_name_raw,
    {{ function('clean_name') }}(xm) as xs_name,
    {{ function('name_key') }}(xm) as xs_name_key,
    {{ function('sex_code') }}(xb) as xs_sex_code,
    {{ function('date_value') }}(csrq) as xs_birth_date,
    {{ function('ethnicity_code') }}(mz) as xs_ethnicity_code,
    -- The student number is G + the ID number when the student has one.
    coalesce(
        {{ function('normalize_id_number') }}(sfzjh),
        case when btrim(qgxjh) like 'G%' then {{ function('normalize_id_number') }}(substr(btrim(qgxjh), 2)) end
    ) as xs_id_number,
    {{ function('is_valid_id_number') }}(coalesce(
        {{ function('normalize_id_number') }}(sfzjh),
        case when btrim(qgxjh) like 'G%' then {{ function('normalize_id_number') }}(substr(btrim(qgxjh), 2)) end
    )) as xs_id_number_valid,
    btrim(xxbsm) as school_code,
    xxmc as school_name,
    jhrxm as jhr_name_raw,
    {{ function('clean_name') }}(jhrxm) as jhr_name,
    {{ function('name_key') }}(jhrxm) as jhr_name_key,
    {{ function('normalize_id_number') }}(jhrsfzjh) as jhr_id_number,
    {{ function('is_valid_id_number') }}({{ function('normalize_id_number') }}(jhrsfzjh)) as jhr_id_number_valid,
    {{ function('gxsj') }}(gxsj) as updated_at,
    _delivery_id as delivery_id
from current_record
