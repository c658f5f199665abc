-- Housing fund: employers' contribution accounts. An account names its organisation by
-- credit code, by legacy organization code (with or without hyphen), or by name and address
-- only (a former name, an abbreviation, a bracket variant).
with current_record as {{ current_records('gjj_dwjc', ['dwzh']) }},

account as (
    select current_record.*, {{ function('clean_code') }}(tyshxydm) as uscc
    from current_record
)

select
    btrim(dwzh) as record_key,
    dwmc as name_raw,
    {{ function('clean_name') }}(dwmc) as name,
    {{ function('name_key') }}(dwmc) as name_key,
    uscc,
    {{ function('is_valid_uscc') }}(uscc) as uscc_valid,
    coalesce({{ function('uscc_org_code') }}(uscc), {{ function('org_code') }}(zzjgdm))
        as organization_code,
    {{ function('clean_address') }}(dwdz) as address,
    case when btrim(jcrs) ~ '^[0-9]{1,9}$' then btrim(jcrs)::int end as contributors,
    {{ function('amount_yuan') }}(yjce) as monthly_contribution_yuan,
    {{ function('month_start') }}(jzny) as paid_up_to_month,
    case btrim(dwzt) when '1' then 'active' when '2' then 'sealed' when '3' then 'closed' end
        as status,
    {{ function('date_value') }}(khrq) as opened_date,
    {{ function('gxsj') }}(gxsj) as updated_at,
    _delivery_id as delivery_id
from account
