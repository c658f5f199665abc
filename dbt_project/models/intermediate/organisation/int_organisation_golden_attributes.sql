-- Survivorship for organisations (rules: seeds/survivorship_rules.csv).
{{ survivorship(ref('int_organisation_attribute_candidates'), 'legal_person_id', 'organisation') }}
