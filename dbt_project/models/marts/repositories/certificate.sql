-- The certificate repository: one row per certificate of the e-certificate library
-- (dzzz_zzxx), with its holder (published person or legal person), the business record it
-- was matched to and how (int_certificate_matches), whether it is structured and why not
-- (int_certificate_checks), and who fixes a failure (the issuing department, and the
-- correction request it becomes). Orphans (no business record) are kept, holder by their
-- record link. Indexed by holder: a holder's list (mdm certificates --holder) is three
-- index lookups (by person id, legal person id, or the holder's ID number or credit code).
{{ config(indexes=[
    {'columns': ['holder_person_id']}, {'columns': ['holder_legal_person_id']},
    {'columns': ['holder_code']}]) }}

with problem as (
    select
        record_key,
        array_agg(case when field in ('zmxx', 'zzzt') then problem else field || ' ' || problem end
                  order by field) as problems,
        min(request_type) as request_type  -- MISSING_REQUIRED before SOURCE_CONFLICT
    from {{ ref('int_certificate_checks') }}
    group by record_key
)

select
    library.record_key::text as certificate_id,
    library.certificate_type::text as certificate_type,
    library.certificate_number::text as certificate_number,
    (case when person.person_id is not null then 'person'
          when org.legal_person_id is not null then 'legal_person' end)::text as holder_kind,
    person.person_id as holder_person_id,
    org.legal_person_id as holder_legal_person_id,
    coalesce(person.id_number, org.uscc)::text as holder_code,
    library.holder_name,
    library.issuer_name,
    library.issuer_uscc,
    library.issue_date,
    library.valid_until,
    coalesce(library.is_permanent, false)::boolean as is_permanent,
    library.status::text as status,
    expected.prefecture_code::text as prefecture_code,
    matched.business_dataset::text as business_dataset,
    matched.holder_record_key::text as business_record_key,
    matched.match_method::text as match_method,
    matched.duplicate_of::text as duplicate_of,
    (matched.holder_record_key is not null and problem.record_key is null)::boolean as is_structured,
    coalesce(problem.problems, case when matched.holder_record_key is null
                                    then array['no business record'] end)::text[]
        as structured_problems,
    (case when problem.record_key is not null and matched.duplicate_of is null
          then expected.department end)::text as correction_department,
    (case when problem.record_key is not null and matched.duplicate_of is null
          then problem.request_type end)::text as correction_request_type,
    library.updated_at::timestamp as updated_at
from {{ ref('stg_dzzz_zzxx__certificates') }} as library
join {{ ref('int_certificate_matches') }} as matched using (record_key)
left join {{ ref('int_certificate_expected') }} as expected
    on expected.certificate_type = matched.certificate_type
    and expected.holder_record_key = matched.holder_record_key
left join problem using (record_key)
left join {{ ref('natural_person') }} as person
    on matched.holder_kind = 'person' and person.person_id = matched.holder_id
left join {{ ref('legal_person') }} as org
    on matched.holder_kind = 'legal_person' and org.legal_person_id = matched.holder_id
