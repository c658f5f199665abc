-- The entities this build recomputes: those whose records changed since the last build that
-- got this far (int_record_state): a record new, gone, changed, no longer live, or moved to
-- another entity (a merge, split or move: both the old and the new entity); organisations
-- whose legal representative's record changed person. Only the candidate records
-- (int_record_candidates) can have changed, so only they are compared. kind 'all' when the
-- record state starts from nothing (first build, --full-refresh): everything is recomputed.
{%- set previous = adapter.get_relation(database=this.database, schema=this.schema,
                                        identifier='int_record_state') %}
with candidate as (
    select kind, dataset, record_key, entity_id, fingerprint
    from {{ ref('int_record_candidates') }}
),

-- the candidates' previous state
before as (
    {%- if record_state_is_new() %}
    select * from candidate where false
    {%- else %}
    select previous.kind, previous.dataset, previous.record_key, previous.entity_id,
           previous.fingerprint
    from {{ previous }} as previous
    join candidate on candidate.dataset = previous.dataset
                  and candidate.record_key = previous.record_key
    {%- endif %}
),

changed as (
    {%- if record_state_is_new() %}
    select * from candidate where false
    {%- else %}
    (select * from candidate except select * from before)
    union
    (select * from before except select * from candidate)
    {%- endif %}
)

select kind, entity_id from changed where entity_id is not null
union
select 'organisation', resolved.legal_person_id::text
from changed
join {{ ref('int_organisation_observations') }} as observation
    on observation.dataset = changed.dataset and observation.legal_rep_record_key = changed.record_key
join {{ source('resolve', 'legal_person_record') }} as resolved
    on resolved.dataset = observation.dataset and resolved.record_key = observation.record_key
where changed.kind = 'person'
{%- if record_state_is_new() %}
union
select 'all', null
{%- endif %}
