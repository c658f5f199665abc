-- Credit-loan platform: enterprises' authorisations of banks to query their public data.
with current_record as {{ current_records('xyd_sq', ['sqid']) }},

authorisation as (
    select current_record.*, {{ function('clean_code') }}(tyshxydm) as uscc
    from current_record
)

select
    btrim(sqid) as record_key,
    uscc,
    {{ function('is_valid_uscc') }}(uscc) as uscc_valid,
    {{ function('uscc_org_code') }}(uscc) as organization_code,
    qymc as name_raw,
    {{ function('clean_name') }}(qymc) as name,
    {{ function('name_key') }}(qymc) as name_key,
    {{ function('clean_code') }}(yhdm) as bank_uscc,
    yhmc as bank_name,
    array(select upper(btrim(scope)) from unnest(string_to_array(sqfw, ';')) as scope
          where btrim(scope) <> '') as scopes,
    {{ function('date_value') }}(sqrq) as granted_date,
    {{ function('valid_until') }}(yxqz) as valid_until,
    case btrim(sqzt) when '1' then 'granted' when '2' then 'withdrawn' end as status,
    {{ function('gxsj') }}(gxsj) as updated_at,
    _delivery_id as delivery_id
from authorisation
