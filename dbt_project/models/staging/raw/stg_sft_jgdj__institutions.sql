-- Justice administration: legal-service institutions (law firms, notary offices, forensic
-- institutions, grassroots legal-service offices). Legal persons; the person in charge (FZR)
-- plays the legal representative's part.
with current_record as {{ current_records('sft_jgdj', ['jgid']) }}

select
    btrim(jgid) as record_key,
    {{ function('clean_code') }}(tyshxydm) as uscc,
    {{ function('is_valid_uscc') }}({{ function('clean_code') }}(tyshxydm)) as uscc_valid,
    {{ function('uscc_org_code') }}({{ function('clean_code') }}(tyshxydm)) as organization_code,
    jgmc as name_raw,
    {{ function('clean_name') }}(jgmc) as name,
    {{ function('name_key') }}(jgmc) as name_key,
    'legal_service_institution' as org_kind,
    case btrim(jglx)
        when '01' then 'law_firm' when '02' then 'notary_office'
        when '03' then 'forensic_institution' when '04' then 'grassroots_legal_service'
    end as institution_type,
    nullif(btrim(zzxs), '') as organisation_form,
    {{ function('clean_code') }}(zyxkzh) as licence_number,
    fzr as legal_rep_name_raw,
    {{ function('clean_name') }}(fzr) as legal_rep_name,
    {{ function('name_key') }}(fzr) as legal_rep_name_key,
    {{ function('normalize_id_number') }}(fzrzjhm) as legal_rep_id_number,
    {{ function('is_valid_id_number') }}({{ function('normalize_id_number') }}(fzrzjhm)) as legal_rep_id_number_valid,
    {{ function('clean_address') }}(zs) as address,
    {{ function('division_code') }}(xzqhdm) as division_code,
    case btrim(jgzt) when '1' then 'active' when '2' then 'suspended' when '3' then 'deregistered' end
        as status,
    {{ function('date_value') }}(pzrq) as establishment_date,
    {{ function('gxsj') }}(gxsj) as updated_at,
    _delivery_id as delivery_id
from current_record
