-- Courts: dishonest judgment debtors on the list (front-end pulls; a row marked SCBZ = 1,
-- removed from the list, is pulled as a delete). A debtor is a natural person (ID number) or
-- an organisation (credit code or legacy organization code).
with current_record as {{ current_records('fy_sxbzxr', ['ah']) }},

debtor as (
    select current_record.*, btrim(bzxrlx) as debtor_category, {{ function('clean_code') }}(zjhm) as code
    from current_record
)

select
    btrim(ah) as record_key,
    {{ function('case_number') }}(ah) as case_number,
    bzxrmc as debtor_name_raw,
    {{ function('clean_name') }}(bzxrmc) as debtor_name,
    {{ function('name_key') }}(bzxrmc) as debtor_name_key,
    case debtor_category when '1' then 'person' when '2' then 'organisation' end as debtor_kind,
    case when debtor_category = '1' then {{ function('normalize_id_number') }}(zjhm) end as id_number,
    debtor_category = '1' and {{ function('is_valid_id_number') }}({{ function('normalize_id_number') }}(zjhm))
        as id_number_valid,
    case when debtor_category = '2' and {{ function('is_valid_uscc') }}(code) then code end as uscc,
    case when debtor_category = '2' then
        coalesce({{ function('uscc_org_code') }}(code), {{ function('org_code') }}(code))
    end as organization_code,
    fddbr as legal_rep_name_raw,
    {{ function('clean_name') }}(fddbr) as legal_rep_name,
    zxfy as court,
    {{ function('date_value') }}(larq) as filing_date,
    {{ function('date_value') }}(fbrq) as publish_date,
    sxqx as conduct,
    nullif(btrim(lxqk), '') as performance,
    {{ function('gxsj') }}(gxsj) as updated_at,
    _delivery_id as delivery_id
from debtor
