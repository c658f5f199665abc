-- The entities this build recomputes: those whose records changed since the last build that
-- got this far (int_record_state): a record new, gone, changed, no longer live, or moved to
-- another entity (a merge, split or move: both the old and the new entity); organisations
-- whose legal representative's record changed person. kind 'all' when there is no previous
-- state (first build, --full-refresh): everything is recomputed.
{%- set previous = adapter.get_relation(database=this.database, schema=this.schema,
                                        identifier='int_record_state') %}
with current_state as (
    {{ entity_record_state() }}
),

changed as (
    {%- if previous is none or flags.FULL_REFRESH %}
    select * from current_state where false
    {%- else %}
    (select * from current_state except select * from {{ previous }})
    union
    (select * from {{ previous }} except select * from current_state)
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
{%- if previous is none or flags.FULL_REFRESH %}
union
select 'all', null
{%- endif %}
