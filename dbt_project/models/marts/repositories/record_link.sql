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
where (link.entity_kind = 'person'
       and link.entity_id in (select person_id from {{ ref('natural_person') }}))
   or (link.entity_kind = 'legal_person'
       and link.entity_id in (select legal_person_id from {{ ref('legal_person') }}))
