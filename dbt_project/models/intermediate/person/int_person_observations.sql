-- One row per live person source record (record keys with #ROLE where a row holds several
-- people): the standardised attributes entity resolution and survivorship work on.
{%- set columns = [
    'dataset', 'record_key', 'role', 'id_type', 'id_number', 'id_number_valid', 'name_raw',
    'name', 'name_key', 'former_name', 'sex_code', 'birth_date', 'ethnicity_code',
    'hukou_division_code', 'hukou_address', 'residential_address', 'mobile', 'status',
    'death_date', 'nationality', 'updated_at', 'delivery_id'] %}

with observation as (
    select
        'gat_czrk' as dataset, record_key, 'resident' as role, '111' as id_type, id_number,
        id_number_valid, name_raw, name, name_key, former_name, sex_code, birth_date,
        ethnicity_code, hukou_division_code, hukou_address, null as residential_address,
        null as mobile, status, death_date, 'CHN' as nationality, updated_at, delivery_id
    from {{ ref('stg_gat_czrk__residents') }}

    {% for role, sex in [('nan', '1'), ('nv', '2')] %}
    union all
    select
        'mzt_hydj', record_key || '#{{ role | upper }}', '{{ "husband" if role == "nan" else "wife" }}',
        {{ role }}_id_type, {{ role }}_id_number, {{ role }}_id_number_valid,
        {{ role }}_name_raw, {{ role }}_name, {{ role }}_name_key, null, '{{ sex }}',
        {{ role }}_birth_date, null, null, null, null, null, null, null,
        {{ role }}_nationality, updated_at, delivery_id
    from {{ ref('stg_mzt_hydj__marriages') }}
    {% endfor %}

    union all
    select
        'swj_grnsr', record_key, 'taxpayer',
        case id_type when '201' then '111' when '208' then '414' when '210' then '516'
                     when '213' then '511' else id_type end,
        id_number, id_number_valid, name_raw, name, name_key, null, sex_code, birth_date, null,
        null, null, residential_address, mobile, null, null, null, updated_at, delivery_id
    from {{ ref('stg_swj_grnsr__taxpayers') }}

    union all
    select
        'rst_cbry', record_key, 'insured',
        -- the social security number is the ID number, or a foreigner's passport number
        case when id_number ~ '^([0-9]{17}[0-9X]|[0-9]{15})$' then '111' else '414' end,
        id_number, id_number_valid, name_raw, name, name_key, null, sex_code, birth_date, null,
        null, null, null, mobile, null, null, null, updated_at, delivery_id
    from {{ ref('stg_rst_cbry__insured') }}

    union all
    select
        'wjw_csyxzm', record_key || '#XSE', 'newborn', null, null, false,
        xse_name_raw, xse_name, xse_name_key, null, xse_sex_code, xse_birth_date, null,
        birth_division_code, null, null, null, null, null, null, updated_at, delivery_id
    from {{ ref('stg_wjw_csyxzm__birth_certificates') }}

    {% for role, sex, label in [('mq', '2', 'mother'), ('fq', '1', 'father')] %}
    union all
    select
        'wjw_csyxzm', record_key || '#{{ role | upper }}', '{{ label }}', '111',
        {{ role }}_id_number, {{ role }}_id_number_valid, {{ role }}_name_raw, {{ role }}_name,
        {{ role }}_name_key, null, '{{ sex }}', null, null, null, null, null, null, null, null,
        null, updated_at, delivery_id
    from {{ ref('stg_wjw_csyxzm__birth_certificates') }}
    where {{ role }}_name is not null or {{ role }}_id_number is not null
    {% endfor %}

    union all
    select
        'jyt_xsxj', record_key || '#XS', 'student', '111', xs_id_number, xs_id_number_valid,
        xs_name_raw, xs_name, xs_name_key, null, xs_sex_code, xs_birth_date, xs_ethnicity_code,
        null, null, null, null, null, null, null, updated_at, delivery_id
    from {{ ref('stg_jyt_xsxj__students') }}

    union all
    select
        'jyt_xsxj', record_key || '#JHR', 'guardian', '111', jhr_id_number, jhr_id_number_valid,
        jhr_name_raw, jhr_name, jhr_name_key, null, null, null, null,
        null, null, null, null, null, null, null, updated_at, delivery_id
    from {{ ref('stg_jyt_xsxj__students') }}
    where jhr_name is not null or jhr_id_number is not null

    {% for model in ['stg_scjgj_qydj__enterprises', 'stg_bb_sydwdj__public_institutions',
                     'stg_mzt_shzz__social_organisations', 'stg_swj_dwnsr__taxpayers'] %}
    union all
    select
        '{{ model.split("__")[0][4:] }}', record_key || '#FDDBR', 'legal_representative',
        case when legal_rep_id_number_valid then '111' end, legal_rep_id_number,
        legal_rep_id_number_valid, legal_rep_name_raw, legal_rep_name, legal_rep_name_key,
        null, null, null, null, null, null, null, null, null, null, null, updated_at, delivery_id
    from {{ ref(model) }}
    where legal_rep_name is not null or legal_rep_id_number is not null
    {% endfor %}
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
         or (id_type = '414' and id_number is not null)
         or birth_date is not null) as is_mention
from observation
