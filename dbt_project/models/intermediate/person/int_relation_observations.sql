-- Relations as the sources state them, between source records (entity ids come later, from
-- the resolution output): spouse, parent, guardian, legal representative, person in charge
-- (of a legal-service institution), practitioner (at an institution). Employees: see
-- int_employer_references (the employer is resolved by code or name after resolution).
with marriage as (
    select
        record_key || '#NAN' as from_record_key, 'mzt_hydj' as from_dataset,
        record_key || '#NV' as to_record_key, 'mzt_hydj' as to_dataset,
        'spouse' as relation_type, 'mzt_hydj' as dataset, record_key,
        registration_type, registration_date, nan_id_number, nv_id_number
    from {{ ref('stg_mzt_hydj__marriages') }}
),

parent as (
    {% for role in ['mq', 'fq'] %}
    select
        record_key || '#{{ role | upper }}' as from_record_key, 'wjw_csyxzm' as from_dataset,
        record_key || '#XSE' as to_record_key, 'wjw_csyxzm' as to_dataset,
        'parent' as relation_type, 'wjw_csyxzm' as dataset, record_key,
        xse_birth_date as valid_from
    from {{ ref('stg_wjw_csyxzm__birth_certificates') }}
    where {{ role }}_name is not null or {{ role }}_id_number is not null
    {{ "union all" if not loop.last }}
    {% endfor %}
),

divorce as (
    select nan_id_number, nv_id_number, registration_date
    from marriage
    where registration_type = 'divorce'
),

ended as (
    -- a marriage ends with the first divorce of the same couple registered after it
    select marriage.record_key, min(divorce.registration_date) as valid_to
    from marriage
    join divorce
        on divorce.nan_id_number = marriage.nan_id_number
        and divorce.nv_id_number = marriage.nv_id_number
        and divorce.registration_date >= marriage.registration_date
    where marriage.registration_type = 'marriage'
    group by marriage.record_key
)

select
    from_dataset, from_record_key, to_dataset, to_record_key, 'person' as to_kind,
    relation_type, dataset, marriage.record_key, registration_date as valid_from,
    ended.valid_to
from marriage
left join ended on ended.record_key = marriage.record_key
where registration_type = 'marriage'

union all
select
    from_dataset, from_record_key, to_dataset, to_record_key, 'person', relation_type, dataset,
    record_key, valid_from, null
from parent

union all
select
    'jyt_xsxj', record_key || '#JHR', 'jyt_xsxj', record_key || '#XS', 'person', 'guardian',
    'jyt_xsxj', record_key, null, null
from {{ ref('stg_jyt_xsxj__students') }}
where jhr_name is not null or jhr_id_number is not null

union all
select
    dataset, legal_rep_record_key, dataset, record_key, 'organisation',
    case when dataset = 'sft_jgdj' then 'person_in_charge' else 'legal_representative' end,
    dataset, record_key, establishment_date, null
from {{ ref('int_organisation_observations') }} as organisation
where exists (
    select 1
    from {{ ref('int_person_observations') }} as person
    where person.dataset = organisation.dataset
      and person.record_key = organisation.legal_rep_record_key
)

union all
-- a practitioner -> the institution (sft_jgdj) the record names: by its credit code (the first
-- 17 characters: an institution's own record may carry a wrong check character), else by its
-- name when exactly one institution has it (a practitioner known by the name only), or
-- exactly one of that name in the prefecture a lawyer's 17-digit licence number names (its
-- digits 2-5: where the institution licensed the practitioner; firms of one name exist in
-- several cities)
{%- set licence_region = "(case when practitioner.licence_number ~ '^1[0-9]{16}$'
                            then substr(practitioner.licence_number, 2, 4) end)" %}
select
    'sft_zyry', practitioner.record_key, 'sft_jgdj', institution.record_key, 'organisation',
    'practitioner', 'sft_zyry', practitioner.record_key, practitioner.first_practised_date, null
from {{ ref('stg_sft_zyry__practitioners') }} as practitioner
join lateral (
    select candidate.record_key
    from {{ ref('stg_sft_jgdj__institutions') }} as candidate
    where (practitioner.institution_uscc_valid
           and left(candidate.uscc, 17) = left(practitioner.institution_uscc, 17))
       or (candidate.name_key = practitioner.institution_name_key
           and not exists (
               select 1 from {{ ref('stg_sft_jgdj__institutions') }} as same_name
               where same_name.name_key = candidate.name_key
                 and same_name.record_key <> candidate.record_key
                 and ({{ licence_region }} is null or substr(same_name.uscc, 3, 4) is null
                      or substr(same_name.uscc, 3, 4) = {{ licence_region }}))
           and ({{ licence_region }} is null
                or substr(candidate.uscc, 3, 4) = {{ licence_region }}
                or not exists (
                    select 1 from {{ ref('stg_sft_jgdj__institutions') }} as same_name
                    where same_name.name_key = candidate.name_key
                      and same_name.record_key <> candidate.record_key)))
    -- the code first; a code of no institution falls back on the name
    order by (practitioner.institution_uscc_valid
              and left(candidate.uscc, 17) = left(practitioner.institution_uscc, 17)) desc,
             candidate.record_key
    limit 1
) as institution on true
where practitioner.status is distinct from 'deregistered'
