{#- Incremental golden records (docs/architecture.md, "Incremental golden records"): the
    survivorship and repository models recompute only the entities int_touched_entities
    names; their rows of the other entities stay as they are. `--full-refresh` rebuilds all. -#}

{% macro entity_record_state(candidates=none) -%}
{#- Per resolved source record: its entity and a fingerprint of everything the golden
    record of that entity reads from it (the resolution row and the whole observation;
    null observation = the record is not live); source_key and resolved_at find the records
    a later build must look at again (int_record_candidates). candidates: a relation of
    (dataset, record_key) to restrict to (none: every record). -#}
select
    'person'::text as kind,
    resolved.dataset::text as dataset,
    resolved.record_key::text as record_key,
    regexp_replace(resolved.record_key, '#[A-Z]+$', '')::text as source_key,
    resolved.person_id::text as entity_id,
    resolved.resolved_at,
    md5(row(resolved.first_seen_at, resolved.match_key, resolved.match_method,
            resolved.match_probability, observation.*)::text) as fingerprint
from {{ source('resolve', 'person_record') }} as resolved
{{ _candidate_join(candidates) }}
left join {{ ref('int_person_observations') }} as observation
    on observation.dataset = resolved.dataset and observation.record_key = resolved.record_key
union all
select
    'organisation',
    resolved.dataset,
    resolved.record_key,
    resolved.record_key,
    resolved.legal_person_id,
    resolved.resolved_at,
    md5(row(resolved.first_seen_at, resolved.match_method, resolved.match_probability,
            observation.*)::text)
from {{ source('resolve', 'legal_person_record') }} as resolved
{{ _candidate_join(candidates) }}
left join {{ ref('int_organisation_observations') }} as observation
    on observation.dataset = resolved.dataset and observation.record_key = resolved.record_key
{%- endmacro %}

{% macro _candidate_join(candidates) -%}
{%- if candidates -%}
join {{ candidates }} as candidate
    on candidate.dataset = resolved.dataset and candidate.record_key = resolved.record_key
{%- endif -%}
{%- endmacro %}

{% macro record_state_is_new() -%}
{#- Whether this build starts the record state from nothing (no previous state, or
    --full-refresh): every record is a candidate and every entity is recomputed. -#}
{%- set previous = adapter.get_relation(database=this.database, schema=this.schema,
                                        identifier='int_record_state') -%}
{{ return(previous is none or flags.FULL_REFRESH) }}
{%- endmacro %}

{% macro replace_record_state() -%}
{#- pre-hook of int_record_state: drop the candidates' rows (int_record_candidates holds
    their current state; resolution never deletes a record, so each candidate has one). -#}
{%- if is_incremental() -%}
delete from {{ this }} as state using {{ ref('int_record_candidates') }} as candidate
where state.dataset = candidate.dataset and state.record_key = candidate.record_key
{%- else -%}
select 1
{%- endif -%}
{%- endmacro %}

{% macro touched_only(column, kind) -%}
{#- A filter (after a WHERE): on an incremental run, only the touched entities of `kind`. -#}
{%- if is_incremental() -%}
({{ column }} in (select entity_id from {{ ref('int_touched_entities') }} where kind = '{{ kind }}')
 or exists (select 1 from {{ ref('int_touched_entities') }} where kind = 'all'))
{%- else -%}
true
{%- endif -%}
{%- endmacro %}

{% macro delete_touched(column, kind) -%}
{#- pre-hook of an incremental entity model: drop the touched entities' rows (an entity that
    ceased to exist, merged away, gets no new ones). -#}
{%- if is_incremental() -%}
delete from {{ this }} where {{ touched_only(column, kind) }}
{%- else -%}
select 1
{%- endif -%}
{%- endmacro %}

{% macro incremental_entity_config(column, kind) -%}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook=["{{ delete_touched('" ~ column ~ "', '" ~ kind ~ "') }}"]
) }}
{%- endmacro %}
