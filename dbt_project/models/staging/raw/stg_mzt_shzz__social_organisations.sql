-- Civil affairs: social organisations.
with current_record as {{ current_records('mzt_shzz', ['shzzid']) }}

select
    btrim(shzzid) as record_key,
    {{ function('clean_code') }}(tyshxydm) as uscc,
    {{ function('is_valid_uscc') }}({{ function('clean_code') }}(tyshxydm)) as uscc_valid,
    {{ function('uscc_org_code') }}({{ function('clean_code') }}(tyshxydm)) as organization_code,
    zzmc as name_raw,
    {{ function('clean_name') }}(zzmc) as name,
    {{ function('name_key') }}(zzmc) as name_key,
    case btrim(zzlx)
        when '社会团体' then 'social_group'
        when '民办非企业单位' then 'private_non_enterprise'
        when '基金会' then 'foundation'
    end as org_kind,
    fddbr as legal_rep_name_raw,
    {{ function('clean_name') }}(fddbr) as legal_rep_name,
    {{ function('name_key') }}(fddbr) as legal_rep_name_key,
    {{ function('normalize_id_number') }}(fddbrsfzh) as legal_rep_id_number,
    {{ function('is_valid_id_number') }}({{ function('normalize_id_number') }}(fddbrsfzh)) as legal_rep_id_number_valid,
    ywzgdw as supervising_unit,
    case when btrim(zczj) ~ '^[0-9]+(\.[0-9]+)?$' then btrim(zczj)::numeric * 10000 end
        as registered_capital_cny,
    {{ function('clean_address') }}(zs) as address,
    {{ function('date_value') }}(djrq) as establishment_date,
    case btrim(djzt) when '1' then 'active' when '3' then 'deregistered' end as status,
    {{ function('gxsj') }}(gxsj) as updated_at,
    _delivery_id as delivery_id
from current_record
