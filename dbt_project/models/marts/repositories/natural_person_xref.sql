-- Every person source record ever seen -> its person_id (the standard's record keys,
-- with #ROLE suffixes). is_active: the record is live at its source now. Records of persons
-- that are only mentions (natural_person.sql) have no golden record and are not listed.
{{ incremental_entity_config('person_id', 'person') }}
-- depends_on: {{ ref('int_touched_entities') }}
select
    resolved.dataset::text as dataset,
    resolved.record_key::text as record_key,
    resolved.person_id::text as person_id,
    resolved.match_method::text as match_method,
    resolved.match_probability::double precision as match_probability,
    (observation.record_key is not null) as is_active,
    resolved.first_seen_at::timestamptz as first_seen_at
from {{ source('resolve', 'person_record') }} as resolved
left join {{ ref('int_person_observations') }} as observation
    on observation.dataset = resolved.dataset and observation.record_key = resolved.record_key
where resolved.person_id in (select person_id from {{ ref('natural_person') }})
  and {{ touched_only('resolved.person_id', 'person') }}
