-- Justice administration: practitioners (lawyers, notaries, forensic experts, grassroots
-- legal-service workers) with the institution they practise at, by credit code or by name.
with current_record as {{ current_records('sft_zyry', ['ryid']) }},

practitioner as (
    select
        current_record.*,
        -- an ID number (18 or 15 characters, full width folded), else a foreign lawyer's
        -- passport number
        coalesce({{ function('normalize_id_number') }}(sfzjhm) ~ '^[0-9]{17}[0-9X]$', false)
            as has_id_number,
        {{ function('clean_code') }}(zyjgdm) as institution_code
    from current_record
)

select
    btrim(ryid) as record_key,
    case when has_id_number then '111' when nullif(btrim(sfzjhm), '') is not null then '414' end
        as id_type,
    case when has_id_number then {{ function('normalize_id_number') }}(sfzjhm)
         else {{ function('clean_code') }}(sfzjhm) end as id_number,
    has_id_number and {{ function('is_valid_id_number') }}({{ function('normalize_id_number') }}(sfzjhm))
        as id_number_valid,
    xm as name_raw,
    {{ function('clean_name') }}(xm) as name,
    {{ function('name_key') }}(xm) as name_key,
    {{ function('sex_code') }}(xb) as sex_code,
    case btrim(zylb)
        when '01' then 'lawyer' when '02' then 'notary' when '03' then 'forensic_expert'
        when '04' then 'grassroots_legal_worker'
    end as practice_type,
    case when btrim(zylb) = '01' then {{ function('lawyer_licence_number') }}(zyzh)
         else {{ function('clean_code') }}(zyzh) end as licence_number,
    zyjgmc as institution_name_raw,
    {{ function('clean_name') }}(zyjgmc) as institution_name,
    {{ function('name_key') }}(zyjgmc) as institution_name_key,
    institution_code as institution_uscc,
    {{ function('is_valid_uscc') }}(institution_code) as institution_uscc_valid,
    {{ function('uscc_org_code') }}(institution_code) as institution_organization_code,
    case btrim(zyzt) when '1' then 'practising' when '2' then 'suspended' when '3' then 'deregistered' end
        as status,
    {{ function('date_value') }}(sczyrq) as first_practised_date,
    {{ function('gxsj') }}(gxsj) as updated_at,
    _delivery_id as delivery_id
from practitioner
