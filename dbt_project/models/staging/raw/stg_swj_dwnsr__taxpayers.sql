-- Tax: organisational taxpayers with their credit rating, pulled from the front-end database.
with current_record as {{ current_records('swj_dwnsr', ['djxh']) }},

taxpayer as (
    select
        current_record.*,
        {{ function('clean_code') }}(nsrsbh) as taxpayer_number,
        coalesce(
            {{ function('uscc_org_code') }}({{ function('clean_code') }}(nsrsbh)),
            {{ function('legacy_taxpayer_org_code') }}({{ function('clean_code') }}(nsrsbh))
        ) as organization_code
    from current_record
)

select
    btrim(djxh) as record_key,
    taxpayer_number,
    case when {{ function('is_valid_uscc') }}(taxpayer_number) then taxpayer_number end as uscc,
    {{ function('is_valid_uscc') }}(taxpayer_number) as uscc_valid,
    organization_code,
    -- An individual business taxed before it had a credit code uses its operator's ID number
    -- (18 or 15 characters, with two more digits when one operator has several businesses).
    case
        when organization_code is not null then null
        when {{ function('is_valid_id_number') }}({{ function('normalize_id_number') }}(taxpayer_number))
            then {{ function('normalize_id_number') }}(taxpayer_number)
        when length(taxpayer_number) in (17, 20)
             and {{ function('is_valid_id_number') }}({{ function('normalize_id_number') }}(left(taxpayer_number, -2)))
            then {{ function('normalize_id_number') }}(left(taxpayer_number, -2))
    end as operator_id_number,
    nsrmc as name_raw,
    {{ function('clean_name') }}(nsrmc) as name,
    {{ function('name_key') }}(nsrmc) as name_key,
    fddbrxm as legal_rep_name_raw,
    {{ function('clean_name') }}(fddbrxm) as legal_rep_name,
    {{ function('name_key') }}(fddbrxm) as legal_rep_name_key,
    {{ function('normalize_id_number') }}(fddbrsfzjhm) as legal_rep_id_number,
    {{ function('is_valid_id_number') }}({{ function('normalize_id_number') }}(fddbrsfzjhm)) as legal_rep_id_number_valid,
    {{ function('clean_address') }}(zcdz) as address,
    {{ function('clean_address') }}(scjydz) as business_address,
    case btrim(nsrzt) when '03' then 'active' when '05' then 'abnormal' when '07' then 'deregistered' end
        as status,
    upper(btrim(nsxydj)) as tax_credit_rating,
    case when btrim(pjnd) ~ '^[0-9]{4}$' then btrim(pjnd)::int end as tax_credit_rating_year,
    {{ function('date_value') }}(djrq) as registration_date,
    {{ function('gxsj') }}(gxsj) as updated_at,
    _delivery_id as delivery_id
from taxpayer
