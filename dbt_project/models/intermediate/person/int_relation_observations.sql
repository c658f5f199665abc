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
),

practitioner as (
    select
        record_key, first_practised_date, institution_uscc_valid, institution_uscc,
        institution_name_key,
        case when licence_number ~ '^1[0-9]{16}$' then substr(licence_number, 2, 4) end
            as licence_region
    from {{ ref('stg_sft_zyry__practitioners') }}
    where status is distinct from 'deregistered'
),

institution as (
    select record_key, uscc, name_key, substr(uscc, 3, 4) as region
    from {{ ref('stg_sft_jgdj__institutions') }}
),

by_code as (
    -- the code first
    select distinct on (practitioner.record_key)
        practitioner.record_key, institution.record_key as institution_key
    from practitioner
    join institution on left(institution.uscc, 17) = left(practitioner.institution_uscc, 17)
    where practitioner.institution_uscc_valid
    order by practitioner.record_key, institution.record_key
),

by_name as (
    -- a code of no institution falls back on the name
    select distinct on (practitioner.record_key)
        practitioner.record_key, candidate.record_key as institution_key
    from practitioner
    join institution as candidate on candidate.name_key = practitioner.institution_name_key
    where not exists (
            select 1 from institution as same_name
            where same_name.name_key = candidate.name_key
              and same_name.record_key <> candidate.record_key
              and (practitioner.licence_region is null or same_name.region is null
                   or same_name.region = practitioner.licence_region))
      and (practitioner.licence_region is null
           or candidate.region = practitioner.licence_region
           or not exists (
               select 1 from institution as same_name
               where same_name.name_key = candidate.name_key
                 and same_name.record_key <> candidate.record_key))
    order by practitioner.record_key, candidate.record_key
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
-- several cities). Equality joins only (by_code, by_name): a lateral with the two arms under
-- an OR scanned every institution per practitioner (113 s at 1M persons, every day).
select
    'sft_zyry', practitioner.record_key, 'sft_jgdj',
    coalesce(by_code.institution_key, by_name.institution_key), 'organisation',
    'practitioner', 'sft_zyry', practitioner.record_key, practitioner.first_practised_date, null
from practitioner
left join by_code on by_code.record_key = practitioner.record_key
left join by_name on by_name.record_key = practitioner.record_key
where by_code.institution_key is not null or by_name.institution_key is not null
