-- One row per live person source record (record keys with #ROLE where a row holds several
-- people): the standardised attributes entity resolution and survivorship work on, and the
-- rules resolution reads per record (id_agrees_with_record, match_key, match_method,
-- former_name_key), derived here once.
-- Each source gives its columns by name (macros/select_named.sql); the others are null.
{%- set columns = [
    'dataset', 'record_key', 'role', 'id_type', 'id_number', 'id_number_valid', 'name_raw',
    'name', 'name_key', 'former_name', 'sex_code', 'birth_date', 'ethnicity_code',
    'hukou_division_code', 'hukou_address', 'residential_address', 'mobile', 'status',
    'death_date', 'nationality', 'updated_at', 'delivery_id'] %}
{%- set same = ['updated_at', 'delivery_id'] %}
{#- Incremental: a run recomputes the records of the deliveries not yet applied. -#}
{{ incremental_by_delivery(['gat_czrk', 'mzt_hydj', 'swj_grnsr', 'rst_cbry', 'wjw_csyxzm',
    'jyt_xsxj', 'scjgj_qydj', 'bb_sydwdj', 'mzt_shzz', 'swj_dwnsr', 'sft_jgdj', 'sft_zyry'],
    'dataset', records_changed=true) }}

with observation as (
    select {{ select_named(columns, {
        'dataset': "'gat_czrk'", 'role': "'resident'", 'id_type': "'111'",
        'nationality': "'CHN'"}, same + [
        'record_key', 'id_number', 'id_number_valid', 'name_raw', 'name', 'name_key',
        'former_name', 'sex_code', 'birth_date', 'ethnicity_code', 'hukou_division_code',
        'hukou_address', 'status', 'death_date']) }}
    from {{ ref('stg_gat_czrk__residents') }}
    where {{ in_batch('gat_czrk') }}

    {% for role, sex in [('nan', '1'), ('nv', '2')] %}
    union all
    select {{ select_named(columns, {
        'dataset': "'mzt_hydj'", 'record_key': "record_key || '#" ~ role | upper ~ "'",
        'role': "'husband'" if role == 'nan' else "'wife'",
        'id_type': role ~ '_id_type', 'id_number': role ~ '_id_number',
        'id_number_valid': role ~ '_id_number_valid', 'name_raw': role ~ '_name_raw',
        'name': role ~ '_name', 'name_key': role ~ '_name_key', 'sex_code': "'" ~ sex ~ "'",
        'birth_date': role ~ '_birth_date', 'nationality': role ~ '_nationality'}, same) }}
    from {{ ref('stg_mzt_hydj__marriages') }}
    where {{ in_batch('mzt_hydj') }}
    {% endfor %}

    union all
    select {{ select_named(columns, {
        'dataset': "'swj_grnsr'", 'role': "'taxpayer'",
        'id_type': "case id_type when '201' then '111' when '208' then '414'
                     when '210' then '516' when '213' then '511' else id_type end"}, same + [
        'record_key', 'id_number', 'id_number_valid', 'name_raw', 'name', 'name_key',
        'sex_code', 'birth_date', 'residential_address', 'mobile']) }}
    from {{ ref('stg_swj_grnsr__taxpayers') }}
    where {{ in_batch('swj_grnsr') }}

    union all
    -- the social security number is the ID number, or a foreigner's passport number
    select {{ select_named(columns, {
        'dataset': "'rst_cbry'", 'role': "'insured'",
        'id_type': "case when id_number ~ '^([0-9]{17}[0-9X]|[0-9]{15})$' then '111' else '414' end"},
        same + ['record_key', 'id_number', 'id_number_valid', 'name_raw', 'name', 'name_key',
                'sex_code', 'birth_date', 'mobile']) }}
    from {{ ref('stg_rst_cbry__insured') }}
    where {{ in_batch('rst_cbry') }}

    union all
    select {{ select_named(columns, {
        'dataset': "'wjw_csyxzm'", 'record_key': "record_key || '#XSE'", 'role': "'newborn'",
        'id_number_valid': 'false', 'name_raw': 'xse_name_raw', 'name': 'xse_name',
        'name_key': 'xse_name_key', 'sex_code': 'xse_sex_code', 'birth_date': 'xse_birth_date',
        'hukou_division_code': 'birth_division_code'}, same) }}
    from {{ ref('stg_wjw_csyxzm__birth_certificates') }}
    where {{ in_batch('wjw_csyxzm') }}

    {% for role, sex, label in [('mq', '2', 'mother'), ('fq', '1', 'father')] %}
    union all
    select {{ select_named(columns, {
        'dataset': "'wjw_csyxzm'", 'record_key': "record_key || '#" ~ role | upper ~ "'",
        'role': "'" ~ label ~ "'", 'id_type': "'111'", 'id_number': role ~ '_id_number',
        'id_number_valid': role ~ '_id_number_valid', 'name_raw': role ~ '_name_raw',
        'name': role ~ '_name', 'name_key': role ~ '_name_key',
        'sex_code': "'" ~ sex ~ "'"}, same) }}
    from {{ ref('stg_wjw_csyxzm__birth_certificates') }}
    where {{ in_batch('wjw_csyxzm') }} and ({{ role }}_name is not null or {{ role }}_id_number is not null)
    {% endfor %}

    union all
    select {{ select_named(columns, {
        'dataset': "'jyt_xsxj'", 'record_key': "record_key || '#XS'", 'role': "'student'",
        'id_type': "'111'", 'id_number': 'xs_id_number', 'id_number_valid': 'xs_id_number_valid',
        'name_raw': 'xs_name_raw', 'name': 'xs_name', 'name_key': 'xs_name_key',
        'sex_code': 'xs_sex_code', 'birth_date': 'xs_birth_date',
        'ethnicity_code': 'xs_ethnicity_code'}, same) }}
    from {{ ref('stg_jyt_xsxj__students') }}
    where {{ in_batch('jyt_xsxj') }}

    union all
    select {{ select_named(columns, {
        'dataset': "'jyt_xsxj'", 'record_key': "record_key || '#JHR'", 'role': "'guardian'",
        'id_type': "'111'", 'id_number': 'jhr_id_number',
        'id_number_valid': 'jhr_id_number_valid', 'name_raw': 'jhr_name_raw',
        'name': 'jhr_name', 'name_key': 'jhr_name_key'}, same) }}
    from {{ ref('stg_jyt_xsxj__students') }}
    where {{ in_batch('jyt_xsxj') }} and (jhr_name is not null or jhr_id_number is not null)

    union all
    -- a legal-service practitioner: an ID number, or a foreign lawyer's passport number
    select {{ select_named(columns, {'dataset': "'sft_zyry'", 'role': "'practitioner'"},
        same + ['record_key', 'id_type', 'id_number', 'id_number_valid', 'name_raw', 'name',
                'name_key', 'sex_code']) }}
    from {{ ref('stg_sft_zyry__practitioners') }}
    where {{ in_batch('sft_zyry') }}

    {% for model, role in [('stg_scjgj_qydj__enterprises', 'FDDBR'),
                           ('stg_bb_sydwdj__public_institutions', 'FDDBR'),
                           ('stg_mzt_shzz__social_organisations', 'FDDBR'),
                           ('stg_swj_dwnsr__taxpayers', 'FDDBR'),
                           ('stg_sft_jgdj__institutions', 'FZR')] %}
    union all
    select {{ select_named(columns, {
        'dataset': "'" ~ model.split("__")[0][4:] ~ "'", 'record_key': "record_key || '#" ~ role ~ "'",
        'role': "'legal_representative'" if role == 'FDDBR' else "'person_in_charge'",
        'id_type': "case when legal_rep_id_number_valid then '111' end",
        'id_number': 'legal_rep_id_number', 'id_number_valid': 'legal_rep_id_number_valid',
        'name_raw': 'legal_rep_name_raw', 'name': 'legal_rep_name',
        'name_key': 'legal_rep_name_key'}, same) }}
    from {{ ref(model) }}
    where {{ in_batch(model.split("__")[0][4:]) }}
      and (legal_rep_name is not null or legal_rep_id_number is not null)
    {% endfor %}
),

checked as (
    select
        *,
        -- A valid ID number that agrees with its record's own birth date and sex. A valid
        -- number (staging: std.is_valid_id_number) has 18 digits and a real date: its date
        -- and sex digits are read directly. A relative's number typed into the wrong record
        -- does not agree: resolution keys nothing on it and Splink compares without it.
        case when id_number_valid then
            (birth_date is null or birth_date = to_date(substr(id_number, 7, 8), 'YYYYMMDD'))
            and (sex_code is null or sex_code not in ('1', '2')
                 or sex_code = case when substr(id_number, 17, 1)::int % 2 = 1
                                    then '1' else '2' end)
        else false end as id_agrees_with_record
    from observation
)

select
    {% for column in columns %}
    {{ column }},
    {% endfor %}
    -- A mention: a person named by name alone (no valid ID or passport number, no birth
    -- date), e.g. a legal representative or guardian entered without an ID number. It is
    -- linked when its context decides (plugins/mdm/resolve/context.py); alone it is no
    -- evidence of a person of its own, so it makes no golden record (natural_person.sql).
    not (coalesce(id_number_valid, false)
         or coalesce(id_type = '414' and id_number is not null, false)
         or birth_date is not null) as is_mention,
    id_agrees_with_record,
    -- The key deterministic resolution joins records on (resolve/deterministic.py refines
    -- it per run: a relative's number, a number typed one character wrong): the agreeing
    -- ID number; for foreigners the passport number (certificate type 414).
    case when id_agrees_with_record then id_number
         when id_type = '414' and id_number is not null then 'passport:' || id_number
    end as match_key,
    case when id_agrees_with_record then 'id_number'
         when id_type = '414' and id_number is not null then 'passport'
         else 'singleton'
    end as match_method,
    -- the registered former name (曾用名) as a name key: Splink's alias rows, context links
    case when former_name is not null then {{ function('name_key') }}(former_name) end as former_name_key
from checked
