-- The departments' answers to the platform's correction requests (standard 6.1): one row per
-- answer (request number and answer sequence).
with current_record as {{ current_records('jcfk', ['jcbh', 'fkxh']) }}

select
    btrim(jcbh) || '_' || btrim(fkxh) as record_key,
    btrim(jcbh) as request_id,
    case when btrim(fkxh) ~ '^[0-9]{1,9}$' then btrim(fkxh)::int end as answer_sequence,
    lower(btrim(sjj)) as answered_dataset,
    case btrim(cljg) when '1' then 'corrected_at_source' when '2' then 'rejected' end as outcome,
    clsm as explanation,
    {{ function('date_value') }}(clrq) as handled_date,
    {{ function('gxsj') }}(gxsj) as updated_at,
    _delivery_id as delivery_id
from current_record
