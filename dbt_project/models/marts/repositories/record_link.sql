-- Which person or legal person each live record of the credit, authorisation and certificate
-- sources describes, and how it was linked (resolve.record_link, ADR 0017): the records of
-- published golden records only.
select
    link.dataset::text as dataset,
    link.record_key::text as record_key,
    link.entity_kind::text as entity_kind,
    link.entity_id::text as entity_id,
    link.link_method::text as link_method,
    link.link_probability::numeric(5, 4) as link_probability
from {{ source('resolve', 'record_link') }} as link
join {{ ref('int_record_link_observations') }} as live using (dataset, record_key)
-- Joins, not `in (select ...)` under an OR: that is a subplan, hashed only while a million
-- ids fit in work_mem, else a scan of the golden records per link (hours at 1M persons).
left join {{ ref('natural_person') }} as person
    on link.entity_kind = 'person' and person.person_id = link.entity_id
left join {{ ref('legal_person') }} as legal_person
    on link.entity_kind = 'legal_person' and legal_person.legal_person_id = link.entity_id
where person.person_id is not null or legal_person.legal_person_id is not null
