-- Institutional establishment: public institutions.
with current_record as {{ current_records('bb_sydwdj', ['sydwid']) }}

select
    btrim(sydwid) as record_key,
    {{ function('clean_code') }}(tyshxydm) as uscc,
    {{ function('is_valid_uscc') }}({{ function('clean_code') }}(tyshxydm)) as uscc_valid,
    {{ function('uscc_org_code') }}({{ function('clean_code') }}(tyshxydm)) as organization_code,
    dwmc as name_raw,
    {{ function('clean_name') }}(dwmc) as name,
    {{ function('name_key') }}(dwmc) as name_key,
    'public_institution' as org_kind,
    fddbr as legal_rep_name_raw,
    {{ function('clean_name') }}(fddbr) as legal_rep_name,
    {{ function('name_key') }}(fddbr) as legal_rep_name_key,
    {{ function('normalize_id_number') }}(fddbrzjhm) as legal_rep_id_number,
    {{ function('is_valid_id_number') }}({{ function('normalize_id_number') }}(fddbrzjhm)) as legal_rep_id_number_valid,
    case when btrim(kbzj) ~ '^[0-9]+(\.[0-9]+)?$' then btrim(kbzj)::numeric * 10000 end
        as registered_capital_cny,
    jfly as funding_source,
    jbdw as sponsor,
    {{ function('clean_address') }}(zs) as address,
    case btrim(djzt) when '1' then 'active' when '3' then 'deregistered' end as status,
    {{ function('date_value') }}(djrq) as establishment_date,
    {{ function('gxsj') }}(gxsj) as updated_at,
    _delivery_id as delivery_id
from current_record
