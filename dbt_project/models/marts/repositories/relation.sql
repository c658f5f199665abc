-- Relations between golden records: spouse (husband -> wife), parent (parent -> child),
-- guardian (guardian -> student), legal_representative (person -> organisation),
-- employee (person -> employer). valid_to closes a spouse relation at the divorce.
select distinct
    from_person.person_id::text as from_id,
    coalesce(to_person.person_id, to_organisation.legal_person_id)::text as to_id,
    relation.relation_type::text as relation_type,
    relation.dataset::text as dataset,
    relation.record_key::text as record_key,
    relation.valid_from::date as valid_from,
    relation.valid_to::date as valid_to
from {{ ref('int_relation_observations') }} as relation
join {{ source('resolve', 'person_record') }} as from_person
    on from_person.dataset = relation.from_dataset and from_person.record_key = relation.from_record_key
left join {{ source('resolve', 'person_record') }} as to_person
    on relation.to_kind = 'person'
    and to_person.dataset = relation.to_dataset and to_person.record_key = relation.to_record_key
left join {{ source('resolve', 'legal_person_record') }} as to_organisation
    on relation.to_kind = 'organisation'
    and to_organisation.dataset = relation.to_dataset
    and to_organisation.record_key = relation.to_record_key
-- both ends golden records (a person known by name alone has none); joins, not `in (select
-- ...)` under an OR: a subplan not hashed once a million ids outgrow work_mem scans the
-- golden records per relation (hours at 1M persons)
join {{ ref('natural_person') }} as from_golden on from_golden.person_id = from_person.person_id
left join {{ ref('natural_person') }} as to_golden on to_golden.person_id = to_person.person_id
where coalesce(to_person.person_id, to_organisation.legal_person_id) is not null
  and (to_person.person_id is null or to_golden.person_id is not null)

union all
-- employee: the insured person (paying pension insurance) -> the employer its record names
select distinct
    insured_person.person_id::text,
    employer.legal_person_id::text,
    'employee'::text,
    'rst_cbry'::text,
    insured.record_key::text,
    insured.enrolment_date::date,
    null::date
from {{ ref('stg_rst_cbry__insured') }} as insured
join {{ ref('int_employer_references') }} as employer using (record_key)
join {{ source('resolve', 'person_record') }} as insured_person
    on insured_person.dataset = 'rst_cbry' and insured_person.record_key = insured.record_key
where insured.insurance_type = '110' and insured.insurance_status = 'paying'
  and insured_person.person_id in (select person_id from {{ ref('natural_person') }})
