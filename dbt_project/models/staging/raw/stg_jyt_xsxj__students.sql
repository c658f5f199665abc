-- Education: student registrations (one row, two people: XS student, JHR guardian).
with current_record as {{ current_records('jyt_xsxj', ['xsid']) }}

select
    btrim(xsid) as record_key,
    btrim(qgxjh) as national_student_number,
    xm as xs_name_raw,
    std.clean_name(xm) as xs_name,
    std.name_key(xm) as xs_name_key,
    std.sex_code(xb) as xs_sex_code,
    std.date_value(csrq) as xs_birth_date,
    std.ethnicity_code(mz) as xs_ethnicity_code,
    -- The student number is G + the ID number when the student has one.
    coalesce(
        std.normalize_id_number(sfzjh),
        case when btrim(qgxjh) like 'G%' then std.normalize_id_number(substr(btrim(qgxjh), 2)) end
    ) as xs_id_number,
    std.is_valid_id_number(coalesce(
        std.normalize_id_number(sfzjh),
        case when btrim(qgxjh) like 'G%' then std.normalize_id_number(substr(btrim(qgxjh), 2)) end
    )) as xs_id_number_valid,
    btrim(xxbsm) as school_code,
    xxmc as school_name,
    jhrxm as jhr_name_raw,
    std.clean_name(jhrxm) as jhr_name,
    std.name_key(jhrxm) as jhr_name_key,
    std.normalize_id_number(jhrsfzjh) as jhr_id_number,
    std.is_valid_id_number(std.normalize_id_number(jhrsfzjh)) as jhr_id_number_valid,
    std.gxsj(gxsj) as updated_at,
    _delivery_id as delivery_id
from current_record
