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
where coalesce(to_person.person_id, to_organisation.legal_person_id) is not null
