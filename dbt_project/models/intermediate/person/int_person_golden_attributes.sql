-- Survivorship: per person and attribute, the winning value and the dataset it came from.
-- Rules are data (seeds/survivorship_rules.csv): source priority, then validity, then recency.
{{ incremental_entity_config('person_id', 'person') }}
-- depends_on: {{ ref('int_touched_entities') }}
{{ survivorship(ref('int_person_attribute_candidates'), 'person_id', 'person') }}
