-- One row per live organisation source record: the standardised attributes entity resolution
-- and survivorship work on. The legal representative is the person record <key>#FDDBR.
-- credit_code and legal_rep_id_number are as delivered (standardised), valid or not: Splink
-- compares a code or a number with a wrong check character to the right one.
with observation as (
    select
        'scjgj_qydj' as dataset, record_key, uscc, uscc_valid, organization_code,
        registration_number, name_raw, name, name_key, org_kind, is_branch, status,
        establishment_date, registered_capital_cny, address, division_code, industry_code,
        null::text as tax_credit_rating, null::int as tax_credit_rating_year,
        record_key || '#FDDBR' as legal_rep_record_key, updated_at, delivery_id,
        uscc as credit_code, legal_rep_name_key,
        legal_rep_id_number, legal_rep_id_number_valid
    from {{ ref('stg_scjgj_qydj__enterprises') }}

    union all
    select
        'bb_sydwdj', record_key, uscc, uscc_valid, organization_code, null, name_raw, name,
        name_key, org_kind, false, status, establishment_date, registered_capital_cny, address,
        null, null, null, null, record_key || '#FDDBR', updated_at, delivery_id,
        uscc, legal_rep_name_key, legal_rep_id_number, legal_rep_id_number_valid
    from {{ ref('stg_bb_sydwdj__public_institutions') }}

    union all
    select
        'mzt_shzz', record_key, uscc, uscc_valid, organization_code, null, name_raw, name,
        name_key, org_kind, false, status, establishment_date, registered_capital_cny, address,
        null, null, null, null, record_key || '#FDDBR', updated_at, delivery_id,
        uscc, legal_rep_name_key, legal_rep_id_number, legal_rep_id_number_valid
    from {{ ref('stg_mzt_shzz__social_organisations') }}

    union all
    select
        'swj_dwnsr', record_key, uscc, uscc_valid, organization_code, null, name_raw, name,
        name_key, null, false, status, null, null, address, null, null, tax_credit_rating,
        tax_credit_rating_year, record_key || '#FDDBR', updated_at, delivery_id,
        -- An individual business may be taxed under its operator's ID number: that is the
        -- operator's (legal representative's) number, not a credit code.
        case when length(taxpayer_number) = 18 and operator_id_number is null
             then taxpayer_number end,
        legal_rep_name_key,
        coalesce(
            case when legal_rep_id_number_valid then legal_rep_id_number end,
            operator_id_number,
            legal_rep_id_number
        ),
        coalesce(legal_rep_id_number_valid, false) or operator_id_number is not null
    from {{ ref('stg_swj_dwnsr__taxpayers') }}
)

select * from observation
