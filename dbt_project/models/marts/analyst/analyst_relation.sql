-- Relations for analysts: persons by pseudonymous key, organisations by legal_person_id.
-- A person end is never shown by its person id: without a pseudonym yet it gets an interim
-- key (macros/analyst_person_key.sql). from_id is always a person; to_id a person or an
-- organisation.
{{ config(alias='relation', post_hook="{{ comment_like_published('relation') }}") }}

select
    {{ analyst_person_key('from_key.pseudonym', 'relation.from_id') }} as from_key,
    case when organisation.legal_person_id is not null then relation.to_id
         else {{ analyst_person_key('to_key.pseudonym', 'relation.to_id') }} end as to_key,
    relation.relation_type,
    relation.dataset,
    relation.valid_from,
    relation.valid_to
from {{ source('published', 'relation') }} as relation
left join {{ source('access', 'person_pseudonym') }} as from_key
    on from_key.person_id = relation.from_id
left join {{ source('access', 'person_pseudonym') }} as to_key
    on to_key.person_id = relation.to_id
left join {{ source('published', 'legal_person') }} as organisation
    on organisation.legal_person_id = relation.to_id
{{ analyst_key_salt_join() }}
