-- The certificates the business records say exist (standard 4.13's table): a business
-- licence per enterprise, two marriage or divorce certificates per registration (one per
-- spouse), a birth certificate per birth, a certificate per public institution, social
-- organisation and law firm, a practising certificate per lawyer. One row per certificate:
-- its holder (the person or legal person the holder's record resolved to, through the
-- xrefs), its prefecture, issue date and number as the business record gives them, whether
-- it is in force (the registration live), and per surface field the values it may agree
-- with (certificate_value: the business record's, and the golden record's of the person or
-- organisation the field names: a business record's own noise is not the certificate's).
-- Incremental (macros/certificate_batch.sql): a build recomputes the certificates of the
-- business records it changed or whose holders' and parties' golden records it touched.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    indexes=[{'columns': ['business_dataset', 'business_record_key']}],
    pre_hook="{{ delete_certificate_batch() }}"
) }}
-- depends_on: {{ ref('int_touched_entities') }}
{%- set n = 'name' %}

with {% if this is not none and is_incremental() %}{{ certificate_batch_ctes() }},

{% endif %}person_of as (
    select xref.dataset, xref.record_key, person.person_id, person.name, person.former_names,
           person.id_number,
           person.sex_code, person.birth_date, person.hukou_division_code
    from {{ ref('natural_person_xref') }} as xref
    join {{ ref('natural_person') }} as person using (person_id)
),

-- an organisation without any code: the prefecture of the county its address begins with
-- (a county name Guangxi has once)
county as (
    select name, min(left(code, 4)) as prefecture
    from {{ ref('gb2260_guangxi') }}
    where right(code, 2) <> '00' and name <> '市辖区' and valid_to_year is null
    group by name
    having count(distinct left(code, 4)) = 1
),

org_of as (
    select xref.dataset, xref.record_key, org.legal_person_id, org.name, org.former_names, org.uscc,
           org.registration_number, org.organization_code, org.address, org.establishment_date,
           org.division_code
    from {{ ref('legal_person_xref') }} as xref
    join {{ ref('legal_person') }} as org using (legal_person_id)
),

enterprise as (
    select
        'YYZZ' as certificate_type,
        'scjgj_qydj' as business_dataset,
        e.record_key as business_record_key,
        e.record_key as holder_record_key,
        'legal_person' as holder_kind,
        g.legal_person_id as holder_id,
        e.name_key as holder_name_key,
        coalesce(left(e.division_code, 4), substr(e.uscc, 3, 4), left(g.division_code, 4)) as prefecture,
        e.establishment_date as issue_date,
        coalesce(e.uscc, e.registration_number) as certificate_number,
        e.status = 'active' as in_force,
        jsonb_build_object(
            'tyshxydm', {{ certificate_reference('code', ['=e.uscc', '=e.registration_number', '=g.uscc', '=g.registration_number']) }},
            'mc', {{ certificate_reference(n, ['=e.name_key', 'g.name'], ['g.former_names']) }},
            'lx', {{ certificate_reference(n, ['enterprise_type.name']) }},
            'fddbr', {{ certificate_reference(n, ['=e.legal_rep_name_key', 'rep.name'], ['rep.former_names']) }},
            'zczb', {{ certificate_reference('amount', ['e.registered_capital_cny / 10000']) }},
            'clrq', {{ certificate_reference('date', ['=e.establishment_date', '=g.establishment_date']) }},
            'zs', {{ certificate_reference('address', ['e.address', 'g.address']) }}
        ) as reference
    from {{ ref('stg_scjgj_qydj__enterprises') }} as e
    left join org_of as g on g.dataset = 'scjgj_qydj' and g.record_key = e.record_key
    left join person_of as rep on rep.dataset = 'scjgj_qydj' and rep.record_key = e.record_key || '#FDDBR'
    left join {{ ref('enterprise_type') }} as enterprise_type on enterprise_type.code = e.enterprise_type
    where {{ in_certificate_batch('scjgj_qydj', 'e.record_key') }}
),

-- one row per registration: its two certificates (one per spouse) share every surface
-- value, computed once here (the ID numbers' checks are most of this model's cost;
-- materialized: inlined, the planner would compute them again for each spouse)
registration as materialized (
    select
        m.record_key,
        case m.registration_type when 'marriage' then 'JHZ' else 'LHZ' end as certificate_type,
        husband.person_id as husband_id,
        wife.person_id as wife_id,
        m.nan_name_key,
        m.nv_name_key,
        -- the registering office: the county it is named after (田东县民政局婚姻登记处), else
        -- the husband's registered residence (the office of his residence registers)
        coalesce(office_county.prefecture, left(husband.hukou_division_code, 4),
                 left(m.nan_id_number, 4)) as prefecture,
        m.registration_date,
        jsonb_build_object(
            'nfxm', {{ certificate_reference(n, ['=m.nan_name_key', 'husband.name'], ['husband.former_names']) }},
            'nfzjhm', {{ certificate_reference('id', [own_id_number('m.nan_id_number', 'husband'), '=husband.id_number']) }},
            'nvxm', {{ certificate_reference(n, ['=m.nv_name_key', 'wife.name'], ['wife.former_names']) }},
            'nvzjhm', {{ certificate_reference('id', [own_id_number('m.nv_id_number', 'wife'), '=wife.id_number']) }},
            'djrq', {{ certificate_reference('date', ['=m.registration_date']) }},
            'djjg', {{ certificate_reference(n, ['m.registering_office']) }}
        ) as reference
    from {{ ref('stg_mzt_hydj__marriages') }} as m
    left join person_of as husband on husband.dataset = 'mzt_hydj' and husband.record_key = m.record_key || '#NAN'
    left join person_of as wife on wife.dataset = 'mzt_hydj' and wife.record_key = m.record_key || '#NV'
    left join county as office_county
        on office_county.name = substring(m.registering_office from '^\s*(.+?[县区市])')
    where m.registration_type is not null and {{ in_certificate_batch('mzt_hydj', 'm.record_key') }}
),

marriage as (
    select
        r.certificate_type,
        'mzt_hydj' as business_dataset,
        r.record_key as business_record_key,
        r.record_key || '#' || role.role as holder_record_key,
        'person' as holder_kind,
        case role.role when 'NAN' then r.husband_id else r.wife_id end as holder_id,
        case role.role when 'NAN' then r.nan_name_key else r.nv_name_key end as holder_name_key,
        r.prefecture,
        r.registration_date as issue_date,
        null::text as certificate_number,
        true as in_force,
        r.reference
    from registration as r
    cross join (values ('NAN'), ('NV')) as role (role)
),

birth as (
    select
        'CSYXZM' as certificate_type,
        'wjw_csyxzm' as business_dataset,
        b.record_key as business_record_key,
        b.record_key || '#XSE' as holder_record_key,
        'person' as holder_kind,
        child.person_id as holder_id,
        b.xse_name_key as holder_name_key,
        coalesce(left(b.birth_division_code, 4), left(child.hukou_division_code, 4)) as prefecture,
        coalesce(b.xse_birth_date, child.birth_date) as issue_date,
        b.record_key as certificate_number,
        true as in_force,
        jsonb_build_object(
            'xsexm', {{ certificate_reference(n, ['=b.xse_name_key', 'child.name'], ['child.former_names']) }},
            'xsexb', {{ certificate_reference('sex', ['=b.xse_sex_code', '=child.sex_code']) }},
            'cssj', {{ certificate_reference('date', ['=b.xse_birth_date', '=child.birth_date']) }},
            'csdd', {{ certificate_reference('division', ['=b.birth_division_code']) }},
            'mqxm', {{ certificate_reference(n, ['=b.mq_name_key', 'mother.name'], ['mother.former_names']) }},
            'mqzjhm', {{ certificate_reference('id', [own_id_number('b.mq_id_number', 'mother'), '=mother.id_number']) }},
            'fqxm', {{ certificate_reference(n, ['=b.fq_name_key', 'father.name'], ['father.former_names']) }},
            'fqzjhm', {{ certificate_reference('id', [own_id_number('b.fq_id_number', 'father'), '=father.id_number']) }}
        ) as reference
    from {{ ref('stg_wjw_csyxzm__birth_certificates') }} as b
    left join person_of as child on child.dataset = 'wjw_csyxzm' and child.record_key = b.record_key || '#XSE'
    left join person_of as mother on mother.dataset = 'wjw_csyxzm' and mother.record_key = b.record_key || '#MQ'
    left join person_of as father on father.dataset = 'wjw_csyxzm' and father.record_key = b.record_key || '#FQ'
    where {{ in_certificate_batch('wjw_csyxzm', 'b.record_key') }}
),

{% for model, code, dataset, amount, extra in [
    ('stg_bb_sydwdj__public_institutions', 'SYDWFRZS', 'bb_sydwdj', 'kbzj', ('jbdw', 'i.sponsor')),
    ('stg_mzt_shzz__social_organisations', 'SHZZDJZS', 'mzt_shzz', 'zczj', ('ywzgdw', 'i.supervising_unit'))] %}
{{ dataset }} as (
    select
        '{{ code }}' as certificate_type,
        '{{ dataset }}' as business_dataset,
        i.record_key as business_record_key,
        i.record_key as holder_record_key,
        'legal_person' as holder_kind,
        g.legal_person_id as holder_id,
        i.name_key as holder_name_key,
        coalesce(substr(i.uscc, 3, 4), left(g.division_code, 4), substr(g.uscc, 3, 4),
                 (select county.prefecture from county
                  where i.address like county.name || '%' order by length(county.name) desc limit 1))
            as prefecture,
        i.establishment_date as issue_date,
        {% if code == 'SYDWFRZS' %}'事证第' || i.organization_code || '号'{% else %}coalesce(i.uscc, i.organization_code){% endif %}
            as certificate_number,
        i.status = 'active' as in_force,
        jsonb_build_object(
            'tyshxydm', {{ certificate_reference('code', ['=i.uscc', '=i.organization_code', '=g.uscc']) }},
            'mc', {{ certificate_reference(n, ['=i.name_key', 'g.name'], ['g.former_names']) }},
            'fddbr', {{ certificate_reference(n, ['=i.legal_rep_name_key', 'rep.name'], ['rep.former_names']) }},
            '{{ amount }}', {{ certificate_reference('amount', ['i.registered_capital_cny / 10000']) }},
            '{{ extra[0] }}', {{ certificate_reference(n, [extra[1]]) }},
            'zs', {{ certificate_reference('address', ['i.address', 'g.address']) }}
        ) as reference
    from {{ ref(model) }} as i
    left join org_of as g on g.dataset = '{{ dataset }}' and g.record_key = i.record_key
    left join person_of as rep on rep.dataset = '{{ dataset }}' and rep.record_key = i.record_key || '#FDDBR'
    where {{ in_certificate_batch(dataset, 'i.record_key') }}
),
{% endfor %}

law_firm as (
    select
        'LSSWSZYXKZ' as certificate_type,
        'sft_jgdj' as business_dataset,
        j.record_key as business_record_key,
        j.record_key as holder_record_key,
        'legal_person' as holder_kind,
        g.legal_person_id as holder_id,
        j.name_key as holder_name_key,
        coalesce(left(j.division_code, 4), substr(j.uscc, 3, 4), left(g.division_code, 4)) as prefecture,
        j.establishment_date as issue_date,
        j.licence_number as certificate_number,
        j.status = 'active' as in_force,
        jsonb_build_object(
            'tyshxydm', {{ certificate_reference('code', ['=j.uscc', '=j.organization_code', '=g.uscc']) }},
            'mc', {{ certificate_reference(n, ['=j.name_key', 'g.name'], ['g.former_names']) }},
            'fzr', {{ certificate_reference(n, ['=j.legal_rep_name_key', 'head.name'], ['head.former_names']) }},
            'zzxs', {{ certificate_reference(n, ['j.organisation_form']) }},
            'zs', {{ certificate_reference('address', ['j.address', 'g.address']) }}
        ) as reference
    from {{ ref('stg_sft_jgdj__institutions') }} as j
    left join org_of as g on g.dataset = 'sft_jgdj' and g.record_key = j.record_key
    left join person_of as head on head.dataset = 'sft_jgdj' and head.record_key = j.record_key || '#FZR'
    where j.institution_type = 'law_firm' and {{ in_certificate_batch('sft_jgdj', 'j.record_key') }}
),

-- a lawyer's institution: by its credit code, else by its name when one institution has it
institution as (
    select z.record_key, min(j.division_code) as division_code, min(j.uscc) as uscc,
           min(j.name_raw) as name
    from {{ ref('stg_sft_zyry__practitioners') }} as z
    join {{ ref('stg_sft_jgdj__institutions') }} as j
        on (z.institution_uscc_valid and j.uscc = z.institution_uscc)
        or (not coalesce(z.institution_uscc_valid, false) and j.name_key = z.institution_name_key)
    where z.practice_type = 'lawyer'
    group by z.record_key
    having count(distinct j.record_key) = 1
),

lawyer as (
    select
        'LSZYZ' as certificate_type,
        'sft_zyry' as business_dataset,
        z.record_key as business_record_key,
        z.record_key as holder_record_key,
        'person' as holder_kind,
        p.person_id as holder_id,
        z.name_key as holder_name_key,
        -- the institution's, else the place the practising-certificate number gives (digits
        -- 2-5: the province and prefecture of the institution, 执业机构所在地), for a lawyer
        -- whose institution is known by a name several institutions have
        coalesce(left(institution.division_code, 4), substr(institution.uscc, 3, 4),
                 substring(z.licence_number from '^1(45[0-9]{2})')) as prefecture,
        z.first_practised_date as issue_date,
        z.licence_number as certificate_number,
        z.status <> 'deregistered' as in_force,
        jsonb_build_object(
            'xm', {{ certificate_reference(n, ['=z.name_key', 'p.name'], ['p.former_names']) }},
            'zjhm', {{ certificate_reference('id', [own_id_number('z.id_number', 'p'), '=p.id_number']) }},
            'zyzh', {{ certificate_reference('licence', ['=z.licence_number']) }},
            'zyjg', {{ certificate_reference(n, ['=z.institution_name_key', 'institution.name']) }}
        ) as reference
    from {{ ref('stg_sft_zyry__practitioners') }} as z
    left join person_of as p on p.dataset = 'sft_zyry' and p.record_key = z.record_key
    left join institution on institution.record_key = z.record_key
    where z.practice_type = 'lawyer' and {{ in_certificate_batch('sft_zyry', 'z.record_key') }}
),

expected as (
    select * from enterprise
    union all select * from marriage
    union all select * from birth
    union all select * from bb_sydwdj
    union all select * from mzt_shzz
    union all select * from law_firm
    union all select * from lawyer
)

select
    expected.certificate_type,
    expected.business_dataset,
    expected.business_record_key,
    expected.holder_record_key,
    expected.holder_kind,
    expected.holder_id,
    expected.holder_name_key,
    case when expected.prefecture ~ '^[0-9]{4}$' then expected.prefecture || '00' end as prefecture_code,
    expected.issue_date,
    expected.certificate_number,
    upper(regexp_replace(expected.certificate_number, '\s', '', 'g')) as number_key,
    coalesce(expected.in_force, true) as in_force,
    catalogue.department,
    expected.reference
from expected
left join {{ ref('dataset_catalogue') }} as catalogue on catalogue.dataset = expected.business_dataset
