{% macro survivorship(candidates, entity_id, entity) -%}
{#- Per entity and attribute, the winning candidate: a valid value (a broken ID number never
    beats a valid one), then the dataset with the lowest priority in
    seeds/survivorship_rules.csv, then the latest update, then the dataset and record key
    (so ties resolve the same way every run). Datasets without a rule are not used. On an
    incremental run, only the touched entities (macros/touched_entities.sql). -#}
with ranked as (
    select
        candidate.{{ entity_id }},
        candidate.attribute,
        candidate.value,
        candidate.dataset,
        candidate.record_key,
        candidate.updated_at,
        row_number() over (
            partition by candidate.{{ entity_id }}, candidate.attribute
            order by candidate.is_valid desc, rule.priority, candidate.updated_at desc nulls last,
                     candidate.dataset, candidate.record_key
        ) as rank_in_entity
    from {{ candidates }} as candidate
    join {{ ref('survivorship_rules') }} as rule
        on rule.entity = '{{ entity }}'
        and rule.attribute = candidate.attribute
        and rule.dataset = candidate.dataset
    where {{ touched_only('candidate.' ~ entity_id, entity) }}
)

select {{ entity_id }}, attribute, value, dataset, record_key, updated_at
from ranked
where rank_in_entity = 1
{%- endmacro %}
