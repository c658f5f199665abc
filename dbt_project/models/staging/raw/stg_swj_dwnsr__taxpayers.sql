-- Tax: organisational taxpayers with their credit rating, pulled from the front-end database.
with current_record as {{ current_records('swj_dwnsr', ['djxh']) }},

taxpayer as (
    select
        current_record.*,
        std.clean_code(nsrsbh) as taxpayer_number,
        coalesce(
            std.uscc_org_code(std.clean_code(nsrsbh)),
            case when length(std.clean_code(nsrsbh)) = 15
                      and std.is_valid_org_code(substr(std.clean_code(nsrsbh), 7))
                 then substr(std.clean_code(nsrsbh), 7) end
        ) as organization_code
    from current_record
)

select
    btrim(djxh) as record_key,
    taxpayer_number,
    case when std.is_valid_uscc(taxpayer_number) then taxpayer_number end as uscc,
    std.is_valid_uscc(taxpayer_number) as uscc_valid,
    organization_code,
    -- An individual business taxed before it had a credit code uses its operator's ID number
    -- (18 or 15 characters, with two more digits when one operator has several businesses).
    case
        when organization_code is not null then null
        when std.is_valid_id_number(std.normalize_id_number(taxpayer_number))
            then std.normalize_id_number(taxpayer_number)
        when length(taxpayer_number) in (17, 20)
             and std.is_valid_id_number(std.normalize_id_number(left(taxpayer_number, -2)))
            then std.normalize_id_number(left(taxpayer_number, -2))
    end as operator_id_number,
    nsrmc as name_raw,
    std.clean_name(nsrmc) as name,
    std.name_key(nsrmc) as name_key,
    fddbrxm as legal_rep_name_raw,
    std.clean_name(fddbrxm) as legal_rep_name,
    std.name_key(fddbrxm) as legal_rep_name_key,
    std.normalize_id_number(fddbrsfzjhm) as legal_rep_id_number,
    std.is_valid_id_number(std.normalize_id_number(fddbrsfzjhm)) as legal_rep_id_number_valid,
    std.clean_address(zcdz) as address,
    std.clean_address(scjydz) as business_address,
    case btrim(nsrzt) when '03' then 'active' when '05' then 'abnormal' when '07' then 'deregistered' end
        as status,
    upper(btrim(nsxydj)) as tax_credit_rating,
    case when btrim(pjnd) ~ '^[0-9]{4}$' then btrim(pjnd)::int end as tax_credit_rating_year,
    std.date_value(djrq) as registration_date,
    std.gxsj(gxsj) as updated_at,
    _delivery_id as delivery_id
from taxpayer
