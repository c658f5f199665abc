-- Market supervision: enterprise registrations. Authoritative for enterprises' names and status.
with current_record as {{ current_records('scjgj_qydj', ['pripid']) }}

select
    btrim(pripid) as record_key,
    {{ function('clean_code') }}(uniscid) as uscc,
    {{ function('is_valid_uscc') }}({{ function('clean_code') }}(uniscid)) as uscc_valid,
    {{ function('uscc_org_code') }}({{ function('clean_code') }}(uniscid)) as organization_code,
    {{ function('clean_code') }}(regno) as registration_number,
    entname as name_raw,
    {{ function('clean_name') }}(entname) as name,
    {{ function('name_key') }}(entname) as name_key,
    btrim(enttype) as enterprise_type,
    case
        when btrim(enttype) = '9500' then 'individual_business'
        when btrim(enttype) = '9100' then 'cooperative'
        else 'enterprise'
    end as org_kind,
    btrim(enttype) in ('1190', '1290') as is_branch,
    lerep as legal_rep_name_raw,
    {{ function('clean_name') }}(lerep) as legal_rep_name,
    {{ function('name_key') }}(lerep) as legal_rep_name_key,
    case when btrim(lerep_certype) = '10' then {{ function('normalize_id_number') }}(lerep_cerno)
         else {{ function('clean_code') }}(lerep_cerno) end as legal_rep_id_number,
    btrim(lerep_certype) = '10'
        and {{ function('is_valid_id_number') }}({{ function('normalize_id_number') }}(lerep_cerno)) as legal_rep_id_number_valid,
    case when btrim(regcap) ~ '^[0-9]+(\.[0-9]+)?$' and btrim(regcapcur) in ('156', '')
         then btrim(regcap)::numeric * 10000 end as registered_capital_cny,
    {{ function('date_value') }}(estdate) as establishment_date,
    {{ function('clean_address') }}(dom) as address,
    {{ function('division_code') }}(domdistrict) as division_code,
    case btrim(regstate)
        when '1' then 'active' when '2' then 'revoked' when '3' then 'deregistered' when '4' then 'moved_out'
    end as status,
    upper(btrim(industryco)) as industry_code,
    {{ function('gxsj') }}(gxsj) as updated_at,
    _delivery_id as delivery_id
from current_record
