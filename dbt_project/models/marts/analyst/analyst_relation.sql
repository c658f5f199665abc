-- Relations for analysts: persons by pseudonymous key, organisations by legal_person_id.
{{ config(alias='relation') }}

select
    coalesce(from_key.pseudonym, relation.from_id) as from_key,
    coalesce(to_key.pseudonym, relation.to_id) as to_key,
    relation.relation_type,
    relation.dataset,
    relation.valid_from,
    relation.valid_to
from {{ source('published', 'relation') }} as relation
left join {{ source('access', 'person_pseudonym') }} as from_key
    on from_key.person_id = relation.from_id
left join {{ source('access', 'person_pseudonym') }} as to_key
    on to_key.person_id = relation.to_id
