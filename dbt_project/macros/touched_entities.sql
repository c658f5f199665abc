{#- Incremental golden records (docs/architecture.md, "Incremental golden records"): the
    survivorship and repository models recompute only the entities int_touched_entities
    names; their rows of the other entities stay as they are. `--full-refresh` rebuilds all. -#}

{% macro entity_record_state() -%}
{#- Per resolved source record: its entity and a fingerprint of everything the golden
    record of that entity reads from it (the resolution row and the whole observation;
    null observation = the record is not live). -#}
select
    'person'::text as kind,
    resolved.dataset::text as dataset,
    resolved.record_key::text as record_key,
    resolved.person_id::text as entity_id,
    md5(row(resolved.first_seen_at, resolved.match_key, resolved.match_method,
            resolved.match_probability, observation.*)::text) as fingerprint
from {{ source('resolve', 'person_record') }} as resolved
left join {{ ref('int_person_observations') }} as observation
    on observation.dataset = resolved.dataset and observation.record_key = resolved.record_key
union all
select
    'organisation',
    resolved.dataset,
    resolved.record_key,
    resolved.legal_person_id,
    md5(row(resolved.first_seen_at, resolved.match_method, resolved.match_probability,
            observation.*)::text)
from {{ source('resolve', 'legal_person_record') }} as resolved
left join {{ ref('int_organisation_observations') }} as observation
    on observation.dataset = resolved.dataset and observation.record_key = resolved.record_key
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
