-- Survivorship for organisations (rules: seeds/survivorship_rules.csv).
{{ incremental_entity_config('legal_person_id', 'organisation') }}
-- depends_on: {{ ref('int_touched_entities') }}
{{ survivorship(ref('int_organisation_attribute_candidates'), 'legal_person_id', 'organisation') }}
