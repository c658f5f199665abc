-- One row per live organisation source record: the standardised attributes entity resolution
-- and survivorship work on, and the keys resolution reads per record (match_key,
-- match_method, org_name_key), derived here once. The legal representative is the person
-- record <key>#FDDBR. credit_code and legal_rep_id_number are as delivered (standardised),
-- valid or not: Splink compares a code or a number with a wrong check character to the
-- right one. Each source gives its columns by name (macros/select_named.sql); the others
-- are null.
{%- set columns = [
    'dataset', 'record_key', 'uscc', 'uscc_valid', 'organization_code', 'registration_number',
    'name_raw', 'name', 'name_key', 'org_kind', 'is_branch', 'status', 'establishment_date',
    'registered_capital_cny', 'address', 'division_code', 'industry_code', 'tax_credit_rating',
    'tax_credit_rating_year', 'legal_rep_record_key', 'updated_at', 'delivery_id',
    'credit_code', 'legal_rep_name_key', 'legal_rep_id_number', 'legal_rep_id_number_valid'] %}
{%- set same = [
    'record_key', 'uscc', 'uscc_valid', 'organization_code', 'name_raw', 'name', 'name_key',
    'status', 'address', 'updated_at', 'delivery_id', 'legal_rep_name_key'] %}
{%- set registered = same + [
    'org_kind', 'establishment_date', 'registered_capital_cny', 'legal_rep_id_number',
    'legal_rep_id_number_valid'] %}
{#- Incremental: a run recomputes the records of the deliveries not yet applied. -#}
{{ incremental_by_delivery(['scjgj_qydj', 'bb_sydwdj', 'mzt_shzz', 'swj_dwnsr', 'sft_jgdj'],
    'dataset', records_changed=true) }}

with observation as (
    select {{ select_named(columns, {
        'dataset': "'scjgj_qydj'", 'tax_credit_rating': 'null::text',
        'tax_credit_rating_year': 'null::int',
        'legal_rep_record_key': "record_key || '#FDDBR'", 'credit_code': 'uscc'},
        registered + ['registration_number', 'is_branch', 'division_code', 'industry_code']) }}
    from {{ ref('stg_scjgj_qydj__enterprises') }}
    where {{ in_batch('scjgj_qydj') }}

    {% for model in ['stg_bb_sydwdj__public_institutions', 'stg_mzt_shzz__social_organisations'] %}
    union all
    select {{ select_named(columns, {
        'dataset': "'" ~ model.split("__")[0][4:] ~ "'", 'is_branch': 'false',
        'legal_rep_record_key': "record_key || '#FDDBR'", 'credit_code': 'uscc'},
        registered) }}
    from {{ ref(model) }}
    where {{ in_batch(model.split("__")[0][4:]) }}
    {% endfor %}

    union all
    select {{ select_named(columns, {
        'dataset': "'swj_dwnsr'", 'is_branch': 'false',
        'legal_rep_record_key': "record_key || '#FDDBR'",
        'credit_code': "case when length(taxpayer_number) = 18 and operator_id_number is null
                             then taxpayer_number end",
        'legal_rep_id_number': "coalesce(
            case when legal_rep_id_number_valid then legal_rep_id_number end,
            operator_id_number,
            legal_rep_id_number
        )",
        'legal_rep_id_number_valid':
            'coalesce(legal_rep_id_number_valid, false) or operator_id_number is not null'},
        same + ['tax_credit_rating', 'tax_credit_rating_year']) }}
    -- An individual business may be taxed under its operator's ID number: that is the
    -- operator's (legal representative's) number, not a credit code.
    from {{ ref('stg_swj_dwnsr__taxpayers') }}
    where {{ in_batch('swj_dwnsr') }}

    union all
    -- legal-service institutions: the person in charge (负责人) is the representative
    select {{ select_named(columns, {
        'dataset': "'sft_jgdj'", 'is_branch': 'false', 'registered_capital_cny': 'null::numeric',
        'legal_rep_record_key': "record_key || '#FZR'", 'credit_code': 'uscc'},
        same + ['org_kind', 'establishment_date', 'legal_rep_id_number',
                'legal_rep_id_number_valid', 'division_code']) }}
    from {{ ref('stg_sft_jgdj__institutions') }}
    where {{ in_batch('sft_jgdj') }}
)

select
    *,
    -- The key deterministic resolution joins records on. The organization code first: it is
    -- inside the credit code (positions 9-17) and inside a legacy taxpayer number (positions
    -- 7-15), so it joins a registration to its tax record.
    case when organization_code is not null then 'org:' || organization_code
         when uscc_valid then 'uscc:' || uscc
         when registration_number is not null then 'regno:' || registration_number
    end as match_key,
    case when organization_code is not null then 'organization_code'
         when uscc_valid then 'uscc'
         when registration_number is not null then 'registration_number'
         else 'singleton'
    end as match_method,
    -- the name without company form or brackets (有限公司 / 有限责任公司): Splink's name level
    {{ function('strip_company_form') }}(name_key) as org_name_key
from observation
