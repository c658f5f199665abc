-- Every organisation source record ever seen -> its legal_person_id.
{{ incremental_entity_config('legal_person_id', 'organisation') }}
-- depends_on: {{ ref('int_touched_entities') }}
select
    resolved.dataset::text as dataset,
    resolved.record_key::text as record_key,
    resolved.legal_person_id::text as legal_person_id,
    resolved.match_method::text as match_method,
    resolved.match_probability::double precision as match_probability,
    (observation.record_key is not null) as is_active,
    resolved.first_seen_at::timestamptz as first_seen_at
from {{ source('resolve', 'legal_person_record') }} as resolved
left join {{ ref('int_organisation_observations') }} as observation
    on observation.dataset = resolved.dataset and observation.record_key = resolved.record_key
where {{ touched_only('resolved.legal_person_id', 'organisation') }}
